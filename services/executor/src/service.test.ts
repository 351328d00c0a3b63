import { describe, expect, it } from "vitest";
import { startJob } from "./core/records.js";
import {
  BadRequestError,
  JobFinishedError,
  JobNotFoundError,
  QueueFullError,
  UnavailableError,
} from "./errors.js";
import { createExecutorService, type ServiceDeps, type SubmitLimits } from "./service.js";
import { memoryQueue, memoryStore, recordingCancelBus } from "./test-support/memory.js";

const limits: SubmitLimits = {
  maxQueueDepth: 3,
  defaultBudgetUsd: 5,
  maxBudgetUsd: 10,
  defaultTimeoutSeconds: 900,
  retryAfterSeconds: 30,
};
const now = new Date("2026-01-01T00:00:00Z");

function setup(over: Partial<SubmitLimits> = {}, login?: ServiceDeps["login"]) {
  const store = memoryStore();
  const queue = memoryQueue();
  const cancelBus = recordingCancelBus();
  const submitted: string[] = [];
  const service = createExecutorService({
    store,
    queue,
    cancelBus,
    agents: {
      has: (n) => n === "general" || n === "triage",
      names: () => ["general", "triage"],
      modelOf: (n) => (n === "triage" ? "claude-haiku-4-5" : undefined),
    },
    models: { supported: ["claude-haiku-4-5", "claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" },
    limits: { ...limits, ...over },
    clock: { now: () => now },
    onSubmitted: (j) => submitted.push(j.id),
    ...(login ? { login } : {}),
  });
  return { store, queue, cancelBus, service, submitted };
}

describe("submit", () => {
  it("queues a job with defaults filled in and the caller recorded", async () => {
    const { service, queue, submitted } = setup();
    const { job, duplicate } = await service.submit({ agent: "general", prompt: "hi" }, "alice");
    expect(duplicate).toBe(false);
    expect(job).toMatchObject({
      status: "queued",
      caller: "alice",
      model: "claude-sonnet-4-6",
      agent: "general",
    });
    expect(job.submission).toMatchObject({ budgetUsd: 5, timeoutSeconds: 900, caller: "alice" });
    expect(queue.ids).toEqual([job.id]);
    expect(submitted).toEqual([job.id]);
  });
  it("uses the agent's model when none is asked for, the asked one otherwise", async () => {
    const { service } = setup();
    expect((await service.submit({ agent: "triage", prompt: "x" }, "a")).job.model).toBe("claude-haiku-4-5");
    expect(
      (await service.submit({ agent: "triage", prompt: "x", model: "claude-sonnet-4-6" }, "a")).job.model,
    ).toBe("claude-sonnet-4-6");
  });
  it("is idempotent on the job id", async () => {
    const { service, queue } = setup();
    const a = await service.submit({ id: "same", agent: "general", prompt: "1" }, "a");
    const b = await service.submit({ id: "same", agent: "general", prompt: "2" }, "a");
    expect(b).toEqual({ job: a.job, duplicate: true });
    expect(queue.ids).toEqual(["same"]);
  });
  it.each([
    [{ agent: "nope", prompt: "x" }, "unknown_agent", /agents: general, triage/],
    [
      { agent: "general", prompt: "x", model: "gpt-4o" },
      "model_not_supported",
      /claude-haiku-4-5, claude-sonnet-4-6/,
    ],
    [{ agent: "general", prompt: "x", budgetUsd: 11 }, "budget_too_high", /limit of 10 USD/],
  ])("refuses %j before queueing anything", async (sub, code, message) => {
    const { service, queue, store } = setup();
    const err = await service.submit(sub, "a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ code, status: 400 });
    expect((err as Error).message).toMatch(message);
    expect(queue.ids).toEqual([]);
    expect(store.records.size).toBe(0);
  });
  it("answers 429 with a retry hint when the queue is full, and loses nothing", async () => {
    const { service, queue } = setup({ maxQueueDepth: 2 });
    await service.submit({ agent: "general", prompt: "1" }, "a");
    await service.submit({ agent: "general", prompt: "2" }, "a");
    const err = await service.submit({ agent: "general", prompt: "3" }, "a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(queue.ids).toHaveLength(2);
  });
  it("removes the record when the queue refuses the job (not accepted ⇒ not recorded)", async () => {
    const { service, queue, store } = setup();
    queue.failNext = true;
    const err = await service
      .submit({ id: "x", agent: "general", prompt: "1" }, "a")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(store.records.has("x")).toBe(false);
  });
});

describe("without a CLI login", () => {
  it("refuses with 503 claude_not_authenticated and queues nothing", async () => {
    const { service, queue, store } = setup({}, () => ({ ok: false, reason: "set CLAUDE_CODE_OAUTH_TOKEN" }));
    const err = await service.submit({ agent: "general", prompt: "x" }, "a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ status: 503, code: "claude_not_authenticated" });
    expect(queue.ids).toEqual([]);
    expect(store.records.size).toBe(0);
  });
});

describe("get and cancel", () => {
  it("get: 404 for an unknown id", async () => {
    await expect(setup().service.get("nope")).rejects.toBeInstanceOf(JobNotFoundError);
  });
  it("cancel of a queued job is immediate and final", async () => {
    const { service, cancelBus } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "x" }, "a");
    const cancelled = await service.cancel(job.id, "changed my mind");
    expect(cancelled).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled", message: "changed my mind" },
    });
    expect(cancelBus.sent).toEqual([]);
    await expect(service.cancel(job.id)).rejects.toBeInstanceOf(JobFinishedError);
  });
  it("cancel of a running job is broadcast to the replica running it", async () => {
    const { service, store, cancelBus } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "x" }, "a");
    await store.update(job.id, (r) => startJob(r, { executor: "e1", now }));
    const r = await service.cancel(job.id, "stop");
    expect(r.status).toBe("running");
    expect(cancelBus.sent).toEqual([{ id: job.id, reason: "stop" }]);
  });
  it("cancel of an unknown job is a 404", async () => {
    await expect(setup().service.cancel("nope")).rejects.toBeInstanceOf(JobNotFoundError);
  });
});
