import type { JobRecord } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import {
  cancelQueuedJob,
  decideDelivery,
  executorStoppedOutcome,
  finishFits,
  finishJob,
  finishWithin,
  InvalidTransitionError,
  loseJob,
  markEnqueued,
  needsEnqueue,
  newJobRecord,
  pauseOnToolCalls,
  recordBytes,
  reissueToken,
  requeueJob,
  resumeFromToolCalls,
  startJob,
  wholeResult,
  withImagesByRef,
  withPromptByRef,
  withResultByRef,
} from "./records.js";

const t0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const queued = (): JobRecord =>
  newJobRecord({
    id: "j1",
    submission: { agent: "general", prompt: "p" },
    model: "m",
    caller: "svc",
    queueToken: "t1",
    now: t0,
  });
const usage = { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
const running = () => startJob(queued(), { executor: "e", now: t0 });
const success = (text: string) => ({
  status: "succeeded" as const,
  result: { text, sessionId: "s", numTurns: 1, permissionDenials: 0 },
  costUsd: 0.5,
  usage,
});

describe("job record transitions", () => {
  it("a new record is queued; a client's own id is kept as clientId, the lease when there is one", () => {
    expect(queued()).toMatchObject({
      id: "j1",
      status: "queued",
      queuedAt: t0.toISOString(),
      attempts: 0,
    });
    expect(queued().clientId).toBeUndefined();
    const withClientId = newJobRecord({
      id: "j2",
      submission: { agent: "general", prompt: "x", id: "order-7" },
      model: "m",
      caller: "tok_a",
      lease: "j2",
      now: t0,
    });
    expect(withClientId).toMatchObject({
      id: "j2",
      clientId: "order-7",
      lease: "j2",
      submission: { id: "order-7" },
    });
  });
  it("start measures the queue wait and counts the attempt", () => {
    const r = startJob(queued(), { executor: "e1", now: at(1500) });
    expect(r).toMatchObject({ status: "running", queueWaitMs: 1500, executor: "e1", attempts: 1 });
  });
  it("finish measures execution only", () => {
    const running = startJob(queued(), { executor: "e1", now: at(10_000) });
    const done = finishJob(
      running,
      {
        status: "succeeded",
        result: { text: "ok", sessionId: "s", numTurns: 1, permissionDenials: 0 },
        costUsd: 0.1,
        usage,
      },
      at(12_500),
    );
    expect(done).toMatchObject({ status: "succeeded", runMs: 2500, queueWaitMs: 10_000, costUsd: 0.1 });
    const failed = finishJob(
      running,
      { status: "timed_out", reason: "timeout", message: "late" },
      at(11_000),
    );
    expect(failed).toMatchObject({
      status: "timed_out",
      error: { reason: "timeout", message: "late" },
      runMs: 1000,
    });
    expect(failed.costUsd).toBeUndefined();
  });
  it("cancel works only while queued", () => {
    expect(cancelQueuedJob(queued(), "stop", at(5))).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled" },
    });
    const running = startJob(queued(), { executor: "e", now: at(1) });
    expect(() => cancelQueuedJob(running, "x", at(2))).toThrow(InvalidTransitionError);
  });
  it("a lost running job fails with executor_lost and names the replica", () => {
    const lost = loseJob(startJob(queued(), { executor: "e7", now: at(1) }), at(60_000));
    expect(lost).toMatchObject({ status: "failed", error: { reason: "executor_lost" } });
    expect(lost.error?.message).toContain("e7");
  });
  it("a handed-back job is queued again without its run data, under a new token, unconfirmed", () => {
    const started = startJob(markEnqueued(queued(), "t1", t0), { executor: "e", now: at(1) });
    const back = requeueJob(started, "t2", at(5));
    expect(back.status).toBe("queued");
    expect(back.startedAt).toBeUndefined();
    expect(back.executor).toBeUndefined();
    expect(back.attempts).toBe(1);
    expect(back).toMatchObject({ queueToken: "t2", requeuedAt: at(5).toISOString() });
    expect(back.enqueuedAt).toBeUndefined();
  });
  it("an executor that stopped mid-run: failed executor_stopped, naming it", () => {
    expect(executorStoppedOutcome("e9")).toMatchObject({ status: "failed", reason: "executor_stopped" });
    expect(executorStoppedOutcome("e9").message).toContain("e9");
  });
  it.each([
    [
      "start a running job",
      () => startJob(startJob(queued(), { executor: "e", now: t0 }), { executor: "e", now: t0 }),
    ],
    [
      "finish a queued job",
      () => finishJob(queued(), { status: "failed", reason: "internal", message: "" }, t0),
    ],
    ["lose a queued job", () => loseJob(queued(), t0)],
    ["requeue a queued job", () => requeueJob(queued(), "t", t0)],
    [
      "reissue a running job's token",
      () => reissueToken(startJob(queued(), { executor: "e", now: t0 }), "t"),
    ],
    ["cancel a cancelled job", () => cancelQueuedJob(cancelQueuedJob(queued(), "a", t0), "b", t0)],
  ])("refuses to %s", (_name, fn) => {
    expect(fn).toThrow(InvalidTransitionError);
  });
});

describe("decideDelivery", () => {
  it.each<[string, JobRecord | null, string]>([
    ["no record", null, "drop"],
    ["queued", queued(), "run"],
    ["running elsewhere", startJob(queued(), { executor: "e", now: t0 }), "lose"],
    ["cancelled while queued", cancelQueuedJob(queued(), "x", t0), "skip"],
    [
      "already finished",
      finishJob(
        startJob(queued(), { executor: "e", now: t0 }),
        { status: "failed", reason: "crashed", message: "" },
        t0,
      ),
      "skip",
    ],
  ])("%s ⇒ %s", (_n, rec, action) => {
    expect(decideDelivery(rec, "t1").action).toBe(action);
  });

  it("runs only the message carrying the record's token; any other is stale", () => {
    const rec = queued();
    expect(decideDelivery(rec, "t1").action).toBe("run");
    expect(decideDelivery(rec, "old")).toEqual({ action: "skip", why: "a stale queue message" });
    expect(decideDelivery(rec, undefined).action).toBe("skip");
    // A stale message for a job running elsewhere must not mark it lost.
    const running = startJob(rec, { executor: "e", now: t0 });
    expect(decideDelivery(running, "old").action).toBe("skip");
    expect(decideDelivery(running, "t1").action).toBe("lose");
    // Records from before tokens: any message runs them.
    const { queueToken: _t, ...legacy } = rec;
    expect(decideDelivery(legacy, undefined).action).toBe("run");
  });
});

describe("queue confirmation and sweeps", () => {
  it("markEnqueued confirms only the current token of a queued job", () => {
    const rec = queued();
    expect(markEnqueued(rec, "t1", at(1)).enqueuedAt).toBe(at(1).toISOString());
    expect(markEnqueued(rec, "other", at(1))).toBe(rec);
    const running = startJob(rec, { executor: "e", now: t0 });
    expect(markEnqueued(running, "t1", at(1))).toBe(running);
  });
  it("needsEnqueue: a queued, unconfirmed job older than the grace; never a confirmed, running or legacy one", () => {
    const rec = queued();
    expect(needsEnqueue(rec, at(30_000), 30_000)).toBe(false);
    expect(needsEnqueue(rec, at(30_001), 30_000)).toBe(true);
    expect(needsEnqueue(markEnqueued(rec, "t1", t0), at(99_999), 30_000)).toBe(false);
    expect(needsEnqueue(startJob(rec, { executor: "e", now: t0 }), at(99_999), 30_000)).toBe(false);
    const { queueToken: _t, ...legacy } = rec;
    expect(needsEnqueue(legacy, at(99_999), 30_000)).toBe(false);
    // A handed-back job counts from its hand-back.
    const back = requeueJob(startJob(rec, { executor: "e", now: t0 }), "t2", at(50_000));
    expect(needsEnqueue(back, at(60_000), 30_000)).toBe(false);
    expect(needsEnqueue(back, at(80_001), 30_000)).toBe(true);
  });
  it("reissueToken names a new message and drops the confirmation", () => {
    const next = reissueToken(markEnqueued(queued(), "t1", t0), "t2");
    expect(next.queueToken).toBe("t2");
    expect(next.enqueuedAt).toBeUndefined();
  });
});

describe("finishWithin (what the bus carries)", () => {
  it("records the outcome when the record fits", () => {
    const done = finishWithin(running(), success("ok"), at(1), 10_000);
    expect(done).toMatchObject({ status: "succeeded", result: { text: "ok" } });
  });
  it("a reply too large for the record: failed result_too_large, naming both sizes, spend kept", () => {
    const done = finishWithin(running(), success("x".repeat(20_000)), at(1), 10_000);
    expect(done).toMatchObject({
      status: "failed",
      error: { reason: "result_too_large" },
      costUsd: 0.5,
      usage,
    });
    expect(done.error?.message).toMatch(/\d+ bytes.*\(10000\)/);
    expect(recordBytes(done)).toBeLessThan(10_000);
  });
});

describe("text by reference", () => {
  it("finishFits says whether the finished record stays within the limit", () => {
    expect(finishFits(running(), success("ok"), at(1), 10_000)).toBe(true);
    expect(finishFits(running(), success("x".repeat(20_000)), at(1), 10_000)).toBe(false);
  });
  it("a reply by reference keeps its first 1000 characters and the reference; then it fits", () => {
    const big = success(`${"x".repeat(20_000)}END`);
    const ref = { object: "jobs/j1/result", bytes: 20_003 };
    const byRef = withResultByRef(big, ref);
    expect(byRef).toMatchObject({ status: "succeeded", result: { text: "x".repeat(1000), textRef: ref } });
    expect(finishFits(running(), byRef, at(1), 10_000)).toBe(true);
  });
  it("a failure has no reply to move", () => {
    const failed = { status: "failed" as const, reason: "crashed" as const, message: "m" };
    expect(withResultByRef(failed, { object: "o", bytes: 1 })).toBe(failed);
  });
  it("a prompt by reference: the record keeps its beginning and the reference, not the gateway's copy of it", () => {
    const ref = { object: "jobs/j1/prompt", bytes: 5_000 };
    const rec = { ...queued(), submission: { agent: "general", prompt: "q".repeat(5_000), promptRef: ref } };
    const byRef = withPromptByRef(rec, ref);
    expect(byRef.submission).toEqual({ agent: "general", prompt: "q".repeat(1000) });
    expect(byRef.promptRef).toEqual(ref);
  });
});

describe("structured output and the record's size", () => {
  const structured = (value: unknown) => {
    const out = success(JSON.stringify(value));
    return { ...out, result: { ...out.result, structuredOutput: value, stopReason: "tool_use" } };
  };
  it("counts like the text it is: a large one does not fit, and by reference it leaves the record with the text", () => {
    const small = structured({ city: "Sofia" });
    expect(finishWithin(running(), small, at(1), 10_000)).toMatchObject({
      status: "succeeded",
      result: { structuredOutput: { city: "Sofia" }, stopReason: "tool_use" },
    });
    // 6 000 characters of object: the text alone would fit, the text and the object would not.
    const big = structured({ items: "y".repeat(6_000) });
    expect(finishFits(running(), big, at(1), 10_000)).toBe(false);
    expect(finishWithin(running(), big, at(1), 10_000)).toMatchObject({
      error: { reason: "result_too_large" },
    });
    const ref = { object: "jobs/j1/result", bytes: big.result.text.length };
    const byRef = withResultByRef(big, ref);
    expect(finishFits(running(), byRef, at(1), 10_000)).toBe(true);
    expect(byRef).toMatchObject({ result: { textRef: ref, stopReason: "tool_use" } });
    expect(byRef.status === "succeeded" && "structuredOutput" in byRef.result).toBe(false);
  });
  it("wholeResult: the whole text, and for a job with a schema the object back from it", () => {
    const recorded = {
      text: '{"items":"yy',
      textRef: { object: "o", bytes: 15 },
      sessionId: "s",
      numTurns: 1,
      permissionDenials: 0,
    };
    const text = '{"items":"yyy"}';
    expect(wholeResult(recorded, text, true)).toEqual({
      ...recorded,
      text,
      structuredOutput: { items: "yyy" },
    });
    expect(wholeResult(recorded, text, false)).toEqual({ ...recorded, text });
    // One the record kept is left as it is; a text that is no JSON adds nothing.
    expect(wholeResult({ ...recorded, structuredOutput: { a: 1 } }, text, true).structuredOutput).toEqual({
      a: 1,
    });
    expect(wholeResult(recorded, "prose", true)).toEqual({ ...recorded, text: "prose" });
  });
});

describe("images by reference", () => {
  it("replaces the inline data of the given images by their references, keeping order and media types", () => {
    const rec: JobRecord = {
      ...queued(),
      submission: {
        agent: "general",
        prompt: "p",
        images: [
          { mediaType: "image/png", data: "AAAA" },
          { mediaType: "image/gif", ref: { object: "incoming/svc/g", bytes: 8 } },
          { mediaType: "image/jpeg", data: "BBBB" },
        ],
      },
    };
    const refs = new Map([
      [0, { object: "jobs/j1/images/0", bytes: 4 }],
      [2, { object: "jobs/j1/images/2", bytes: 4 }],
    ]);
    expect(withImagesByRef(rec, refs).submission.images).toEqual([
      { mediaType: "image/png", ref: { object: "jobs/j1/images/0", bytes: 4 } },
      { mediaType: "image/gif", ref: { object: "incoming/svc/g", bytes: 8 } },
      { mediaType: "image/jpeg", ref: { object: "jobs/j1/images/2", bytes: 4 } },
    ]);
    expect(withImagesByRef(rec, new Map())).toBe(rec);
    expect(withImagesByRef(queued(), refs)).toEqual(queued());
  });
});

describe("pauses on the caller's tool calls", () => {
  const pending = (seq: number) => ({
    calls: [{ id: "toolu_1", name: "get_weather", input: { city: "Sofia" } }],
    text: "",
    seq,
    at: t0.toISOString(),
    expiresAt: at(60_000).toISOString(),
  });

  it("a running job records its pending calls; answering them clears only that pause", () => {
    const paused = pauseOnToolCalls(running(), pending(3));
    expect(paused.toolCalls?.seq).toBe(3);
    expect(resumeFromToolCalls(paused, 3).toolCalls).toBeUndefined();
    // An answer of an earlier pause never clears a later one.
    const later = pauseOnToolCalls(resumeFromToolCalls(paused, 3), pending(7));
    expect(resumeFromToolCalls(later, 3)).toBe(later);
  });

  it("only a running job pauses, and its end drops what was pending", () => {
    expect(() => pauseOnToolCalls(queued(), pending(1))).toThrow(InvalidTransitionError);
    const paused = pauseOnToolCalls(running(), pending(1));
    const failed = finishJob(
      paused,
      { status: "failed", reason: "tool_results_expired", message: "expired" },
      at(60_000),
    );
    expect(failed.toolCalls).toBeUndefined();
    expect(loseJob(paused, at(1)).toolCalls).toBeUndefined();
    expect(finishJob(paused, success("ok"), at(2)).toolCalls).toBeUndefined();
  });
});
