import type { JobRecord } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import {
  cancelQueuedJob,
  decideDelivery,
  finishJob,
  InvalidTransitionError,
  loseJob,
  newJobRecord,
  requeueJob,
  startJob,
} from "./records.js";

const t0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const queued = (): JobRecord =>
  newJobRecord({
    id: "j1",
    submission: { agent: "general", prompt: "p" },
    model: "m",
    caller: "svc",
    now: t0,
  });
const usage = { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };

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
  it("a handed-back job is queued again without its run data", () => {
    const back = requeueJob(startJob(queued(), { executor: "e", now: at(1) }));
    expect(back.status).toBe("queued");
    expect(back.startedAt).toBeUndefined();
    expect(back.executor).toBeUndefined();
    expect(back.attempts).toBe(1);
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
    ["requeue a queued job", () => requeueJob(queued())],
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
    expect(decideDelivery(rec).action).toBe(action);
  });
});
