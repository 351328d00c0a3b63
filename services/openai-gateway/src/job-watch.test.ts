import { jobIdFor } from "@claude-gateway/contracts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type WatchItem, watchJob } from "./job-watch.js";
import { fakeExecutor } from "./test-support/fake-executor.js";

const IDLE_MS = 1000;

async function setup(
  opts: { afterSeq?: number; before?: (e: ReturnType<typeof fakeExecutor>, id: string) => void } = {},
) {
  const executor = fakeExecutor();
  const id = jobIdFor("tok_tester", "oai-w");
  const events = executor.events("tok_tester", id);
  await executor.submit({ id: "oai-w", agent: "assistant", prompt: "Hi", caller: "tok_tester" });
  opts.before?.(executor, id);
  const stop = new AbortController();
  const watch = watchJob(executor, { id, caller: "tok_tester" }, events, {
    idleMs: IDLE_MS,
    signal: stop.signal,
    ...(opts.afterSeq !== undefined ? { afterSeq: opts.afterSeq } : {}),
  });
  const seen: WatchItem[] = [];
  const done = (async () => {
    for await (const item of watch) seen.push(item);
  })();
  return { executor, id, events, stop, seen, done };
}

const kinds = (items: WatchItem[]) =>
  items.map((i) =>
    i.type === "event" ? `${i.event.type}${"status" in i.event ? `:${i.event.status}` : ""}` : i.type,
  );

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const CALL = { id: "toolu_1", name: "get_weather", input: { city: "Sofia" } };

describe("watchJob and the caller's tool calls", () => {
  it("ends with the pause when the model calls the caller's tools", async () => {
    const w = await setup();
    w.executor.emit(w.id, { type: "status", status: "running" });
    w.executor.emit(w.id, { type: "text", delta: "Let me look." });
    w.executor.pause(w.id, [CALL], "Let me look.");
    await w.done;
    expect(kinds(w.seen)).toEqual(["status:running", "text", "tool_calls"]);
    const last = w.seen.at(-1);
    expect(last?.type === "tool_calls" && last.pending).toMatchObject({
      calls: [CALL],
      text: "Let me look.",
      seq: 2,
    });
  });

  it("finds a pause whose event was lost in the record", async () => {
    const w = await setup();
    w.executor.emit(w.id, { type: "status", status: "running" });
    w.executor.pause(w.id, [CALL]);
    // The fake delivered it; a watch that starts after it (a lost event) reads the record.
    const late = watchJob(
      w.executor,
      { id: w.id, caller: "tok_tester" },
      w.executor.events("tok_tester", w.id),
      {
        idleMs: IDLE_MS,
        signal: new AbortController().signal,
      },
    );
    const next = late.next();
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect((await next).value).toMatchObject({ type: "tool_calls", pending: { calls: [CALL] } });
    expect((await late.next()).done).toBe(true);
    w.stop.abort();
  });

  it("a continuation sees only what follows the pause it answered, its own pause included", async () => {
    const w = await setup({
      afterSeq: 1,
      before: (executor, id) => {
        executor.emit(id, { type: "status", status: "running" });
        executor.pause(id, [CALL]);
      },
    });
    await w.executor.supplyToolResults({ id: w.id, caller: "tok_tester" }, [
      { id: "toolu_1", content: "sunny" },
    ]);
    // Replayed old events (a redelivery) are skipped by seq.
    w.executor.emit(w.id, { type: "text", delta: "Sunny." });
    w.executor.pause(w.id, [{ ...CALL, id: "toolu_2" }]);
    await w.done;
    expect(kinds(w.seen)).toEqual(["text", "tool_calls"]);
    const last = w.seen.at(-1);
    expect(last?.type === "tool_calls" && last.pending.calls[0]?.id).toBe("toolu_2");
  });
});

describe("watchJob", () => {
  it("yields the live events, then the record once the job ends", async () => {
    const w = await setup();
    w.executor.succeed(w.id, ["Hel", "lo"]);
    await w.done;
    expect(kinds(w.seen)).toEqual(["status:running", "text", "text", "result", "status:succeeded", "final"]);
    const last = w.seen.at(-1);
    expect(last?.type === "final" && last.job.result?.text).toBe("Hello");
  });

  it("after a silence, reads the record and says it is idle while the job goes on", async () => {
    const w = await setup();
    w.executor.emit(w.id, { type: "status", status: "running" });
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(kinds(w.seen)).toEqual(["status:running", "idle", "idle"]);
    w.executor.succeed(w.id, ["x"]);
    await w.done;
    expect(kinds(w.seen).at(-1)).toBe("final");
  });

  it("ends with the record when the terminal event was lost", async () => {
    const w = await setup();
    w.executor.finish(
      w.id,
      { status: "failed", error: { reason: "crashed", message: "exit 1" } },
      { silent: true },
    );
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    await w.done;
    expect(kinds(w.seen)).toEqual(["final"]);
    const last = w.seen[0];
    expect(last?.type === "final" && last.job.status).toBe("failed");
  });

  it("falls back to polling when the subscription ends under it", async () => {
    const w = await setup();
    w.events.close();
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(kinds(w.seen)).toEqual(["idle"]);
    w.executor.finish(w.id, { status: "timed_out", error: { reason: "timeout", message: "t" } });
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    await w.done;
    expect(kinds(w.seen)).toEqual(["idle", "final"]);
  });

  it("tolerates a failed poll", async () => {
    const w = await setup();
    const get = vi.spyOn(w.executor, "get").mockRejectedValueOnce(new Error("nats hiccup"));
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(kinds(w.seen)).toEqual(["idle"]);
    get.mockRestore();
    w.executor.succeed(w.id, ["x"]);
    await w.done;
    expect(kinds(w.seen).at(-1)).toBe("final");
  });

  it("stops, without a record, when aborted", async () => {
    const w = await setup();
    w.executor.emit(w.id, { type: "status", status: "running" });
    await vi.advanceTimersByTimeAsync(0);
    w.stop.abort();
    await w.done;
    expect(kinds(w.seen)).toEqual(["status:running"]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
