import type { WarmProcess } from "@claude-gateway/claude";
import { silentLogger } from "@claude-gateway/service-kit";
import { describe, expect, it, vi } from "vitest";
import type { JobSandbox, Workspace } from "./ports.js";
import { createPrewarmPool, type Prewarmed } from "./prewarm.js";

/** A pool over fake processes: `exit(entry)` ends one, `started` lists every start. */
function fakePool(size = 1) {
  const started: Array<{ key: string; exit: () => void }> = [];
  const pool = createPrewarmPool({
    size,
    maxKeys: 2,
    maxAgeMs: 3_600_000,
    initialKeys: ["assistant|haiku"],
    logger: silentLogger,
    start: async (key, id) => {
      let exit!: () => void;
      const exited = new Promise<{ exitCode: number; signal: null }>((resolve) => {
        exit = () => resolve({ exitCode: 0, signal: null });
      });
      started.push({ key, exit });
      const process = {
        state: "idle",
        exited,
        ready: Promise.resolve(true),
        close: async () => exit(),
      } as unknown as WarmProcess;
      return {
        key,
        id,
        process,
        workspace: { release: async () => {} } as unknown as Workspace,
        sandbox: { close: async () => {} } as unknown as JobSandbox,
      } satisfies Prewarmed;
    },
  });
  return { pool, started };
}

describe("createPrewarmPool", () => {
  it("fills the initial key; a taken process is replaced only once its job's process exited", async () => {
    const { pool, started } = fakePool();
    await vi.waitFor(() => expect(pool.size).toBe(1));
    const taken = pool.take("assistant|haiku");
    expect(taken?.key).toBe("assistant|haiku");
    // While the job runs, no start-up competes with it.
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(1);
    expect(pool.take("assistant|haiku")).toBeUndefined();
    await taken!.process.close();
    await vi.waitFor(() => expect(pool.size).toBe(1));
    expect(started).toHaveLength(2);
    await pool.close();
  });

  it("a miss starts one for that key at once (the key is now in use)", async () => {
    const { pool, started } = fakePool();
    await vi.waitFor(() => expect(pool.size).toBe(1));
    expect(pool.take("assistant|sonnet")).toBeUndefined();
    await vi.waitFor(() => expect(started.map((s) => s.key)).toContain("assistant|sonnet"));
    await pool.close();
  });
});
