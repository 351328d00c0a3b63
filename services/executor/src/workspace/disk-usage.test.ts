import { link, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@claude-gateway/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diskUsage } from "./disk-usage.js";

describe("diskUsage", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir("cg-du-"));
  });
  afterEach(() => cleanup());

  it("counts allocated blocks, hardlinked files once, and never follows a symlink", async () => {
    const MiB = 1024 * 1024;
    await mkdir(join(dir, "base", "objects"), { recursive: true });
    await mkdir(join(dir, "job", "objects"), { recursive: true });
    await writeFile(join(dir, "base", "objects", "pack"), Buffer.alloc(2 * MiB, 1));
    const empty = await diskUsage(join(dir, "job"));
    const withBase = await diskUsage(dir);
    expect(withBase).toBeGreaterThanOrEqual(2 * MiB);
    expect(withBase).toBeLessThan(2 * MiB + 256 * 1024);

    // A job's hardlink to the base's pack adds nothing; its own file does.
    await link(join(dir, "base", "objects", "pack"), join(dir, "job", "objects", "pack"));
    expect(await diskUsage(dir)).toBe(withBase);
    expect(await diskUsage(join(dir, "job"))).toBeGreaterThanOrEqual(empty + 2 * MiB);
    await writeFile(join(dir, "job", "big"), Buffer.alloc(MiB, 1));
    expect(await diskUsage(dir)).toBeGreaterThanOrEqual(withBase + MiB);

    // A symlink to something huge (or endless) is the link's own few bytes.
    const before = await diskUsage(dir);
    await symlink("/dev/zero", join(dir, "job", "zero"));
    await symlink("/", join(dir, "job", "root"));
    expect((await diskUsage(dir)) - before).toBeLessThan(64 * 1024);
  });

  it("is 0 for what does not exist", async () => {
    expect(await diskUsage(join(dir, "missing"))).toBe(0);
  });
});
