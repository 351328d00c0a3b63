import { ClaudeCancelledError, type ClaudeRun, type Invocation } from "@claude-gateway/claude";
import type { JobEvent, JobRecord } from "@claude-gateway/contracts";
import { silentLogger } from "@claude-gateway/service-kit";
import { describe, expect, it, vi } from "vitest";
import { markEnqueued, newJobRecord } from "./core/records.js";
import { HAND_BACK, type JobSandbox, type RunJob } from "./ports.js";
import { createJobRunner } from "./run-job.js";
import { memoryQueue, memoryStore } from "./test-support/memory.js";

const t0 = new Date("2026-12-04T10:00:00.000Z");

/** A job runner over in-memory ports whose workspace and CLI wait until the job is stopped. */
function setup(opts: { stallIn: "workspace" | "cli" }) {
  const store = memoryStore();
  const queue = memoryQueue();
  const events: JobEvent[] = [];
  let cliRuns = 0;
  const untilAborted = (signal: AbortSignal | undefined, err: () => Error) =>
    new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(err()), { once: true }));
  const sandbox = {
    home: "/h",
    configDir: "/h/.claude",
    staging: "/s",
    env: {},
    runAs: undefined,
    user: undefined,
    launcher: undefined,
    adopt: async () => {},
    placeFile: async () => {},
    takeFile: async () => "unused",
    close: async () => {},
  } as unknown as JobSandbox;
  const runJob: RunJob = createJobRunner({
    store,
    queue,
    events: { publish: (e) => void events.push(e) },
    workspaces: {
      prepare: async ({ signal }) => {
        if (opts.stallIn === "workspace")
          await untilAborted(signal, () =>
            Object.assign(new Error("stopped while waiting for space"), {
              name: "WorkspaceError",
              reason: "aborted",
            }),
          );
        return { dir: "/w", release: async () => {} };
      },
    },
    sandboxes: { open: async () => sandbox },
    transcripts: { save: async () => {}, restore: async () => false } as never,
    runClaude: (o) => {
      cliRuns++;
      return {
        done: untilAborted(o.signal, () => new ClaudeCancelledError(String(o.signal?.reason))),
      } as unknown as ClaudeRun;
    },
    invocationFor: () => ({ profile: { kind: "no-tools" }, session: { kind: "ephemeral" } }) as Invocation,
    claudeEnv: {},
    claudeConfigDir: "/c",
    executorId: "exec-1",
    clock: { now: () => t0 },
    logger: silentLogger,
  });
  return { store, queue, events, runJob, cliRuns: () => cliRuns };
}

async function queuedJob(store: ReturnType<typeof memoryStore>): Promise<JobRecord> {
  const rec = markEnqueued(
    newJobRecord({
      id: "j1",
      submission: { agent: "general", prompt: "p" },
      model: "m",
      caller: "tok_a",
      queueToken: "first",
      now: t0,
    }),
    "first",
    t0,
  );
  await store.create(rec);
  return rec;
}

describe("a job stopped at shutdown (its grace ran out)", () => {
  it("whose CLI had not started goes back to the queue: queued under a new token, its new message confirmed", async () => {
    const { store, queue, events, runJob, cliRuns } = setup({ stallIn: "workspace" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(async () => expect((await store.get("tok_a", "j1"))!.status).toBe("running"));
    controller.abort(HAND_BACK);
    await done;
    const back = (await store.get("tok_a", "j1"))!;
    expect(back).toMatchObject({
      status: "queued",
      requeuedAt: t0.toISOString(),
      enqueuedAt: t0.toISOString(),
    });
    expect(back.queueToken).not.toBe("first");
    expect(queue.messages).toEqual([{ id: "j1", caller: "tok_a", token: back.queueToken }]);
    expect(cliRuns()).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: "status", status: "queued" });
  });

  it("whose CLI had started fails executor_stopped and is never queued again", async () => {
    const { store, queue, runJob, cliRuns } = setup({ stallIn: "cli" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(() => expect(cliRuns()).toBe(1));
    controller.abort(HAND_BACK);
    await done;
    const ended = (await store.get("tok_a", "j1"))!;
    expect(ended).toMatchObject({ status: "failed", error: { reason: "executor_stopped" } });
    expect(ended.error?.message).toContain("exec-1");
    expect(queue.messages).toEqual([]);
  });

  it("a cancel is still a cancel (not a hand-back)", async () => {
    const { store, runJob, cliRuns } = setup({ stallIn: "cli" });
    const job = await queuedJob(store);
    const controller = new AbortController();
    const done = runJob(job, controller.signal);
    await vi.waitFor(() => expect(cliRuns()).toBe(1));
    controller.abort("cancelled by request");
    await done;
    expect(await store.get("tok_a", "j1")).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled" },
    });
  });
});
