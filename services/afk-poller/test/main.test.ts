import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("poller process (dist/main.js)", () => {
  it("with no configuration at all: exits 0 and logs that the loop is disabled", () => {
    expect(existsSync(MAIN), "build first: pnpm --filter @claude-gateway/afk-poller build").toBe(true);
    const res = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(res.status).toBe(0);
    const lines = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(
      expect.objectContaining({
        service: "afk-poller",
        msg: expect.stringContaining("disabled"),
        reasons: ["AFK_KILL_SWITCH is on", "AFK_REPO_ALLOWLIST is empty"],
      }),
    );
  });
});
