import { jobIdFor } from "@claude-gateway/contracts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type WatchItem, watchJob } from "./job-watch.js";
import { fakeExecutor } from "./test-support/fake-executor.js";

const IDLE_MS = 1000;

async function setup() {
  const executor = fakeExecutor();
  const id = jobIdFor("tok_tester", "oai-w");
  const events = executor.events("tok_tester", id);
  await executor.submit({ id: "oai-w", agent: "assistant", prompt: "Hi", caller: "tok_tester" });
  const stop = new AbortController();
  const watch = watchJob(executor, { id, caller: "tok_tester" }, events, {
    idleMs: IDLE_MS,
    signal: stop.signal,
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
