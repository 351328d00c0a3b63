import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { describe, expect, it } from "vitest";
import { isAlive } from "../src/reaper.js";

// A service SIGKILLed (OOM, a crash) cannot stop its CLIs: the kernel must (PR_SET_PDEATHSIG).
const world = useClaudeWorld({ workPrefix: "cg-pdeath-" });
const HOLDER = fileURLToPath(new URL("./support/holds-a-cli.mjs", import.meta.url));

describe("a CLI whose service is SIGKILLed", () => {
  it("dies with it, even while its API request is open", async () => {
    world.stub.setDefault({ kind: "hang" });
    const holder = spawn(process.execPath, [HOLDER], {
      env: {
        ...process.env,
        HOLD_CWD: world.work.dir,
        HOLD_BIN: world.cli.bin,
        HOLD_ENV: JSON.stringify(world.cli.env),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: holder.stdout! }), "line")) as [string];
    const { pid } = JSON.parse(line) as { pid: number };
    // The CLI runs and has sent its request: the stub holds it.
    await world.stub.waitForTurnRequests(1);
    expect(isAlive(pid)).toBe(true);

    holder.kill("SIGKILL");
    await once(holder, "exit");
    await expect.poll(() => isAlive(pid), { timeout: 10_000, interval: 50 }).toBe(false);
  });
});
