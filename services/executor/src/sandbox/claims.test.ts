import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claimRunnerNames } from "./claims.js";

const dir = mkdtempSync(join(tmpdir(), "cg-claims-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("claimRunnerNames", () => {
  it("gives two sandboxes of one process distinct users, and frees them on release", () => {
    const a = claimRunnerNames("r1", 2, dir);
    const b = claimRunnerNames("r1", 2, dir);
    expect(a.names).toEqual(["r1-0", "r1-1"]);
    expect(b.names).toEqual(["r1-2", "r1-3"]);
    a.release();
    a.release();
    expect(claimRunnerNames("r1", 1, dir).names).toEqual(["r1-0"]);
    expect(readdirSync(dir).sort()).toEqual(["r1-0.claim", "r1-2.claim", "r1-3.claim"]);
  });

  it("skips users a live process holds, takes over those of a process that is gone", async () => {
    const other = spawn("sleep", ["30"]);
    writeFileSync(join(dir, "r2-0.claim"), `${other.pid}:x`);
    writeFileSync(join(dir, "r2-1.claim"), "999999999:y");
    try {
      expect(claimRunnerNames("r2", 2, dir).names).toEqual(["r2-1", "r2-2"]);
    } finally {
      other.kill();
    }
  });
});
