import { createAuth } from "@claude-gateway/auth";
import { createPolicyGate } from "@claude-gateway/policy";
import { memoryPolicyCounters, staticPolicy } from "@claude-gateway/policy/testing";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.js";
import { createMetrics } from "./metrics.js";
import { createExecutorService } from "./service.js";
import { memoryQueue, memoryStore, recordingCancelBus } from "./test-support/memory.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = async (res: Response): Promise<any> => res.json();

function setup(opts: { maxQueueDepth?: number; ready?: boolean } = {}) {
  const store = memoryStore();
  const queue = memoryQueue();
  const gate = createPolicyGate({
    policy: staticPolicy({
      defaults: { agents: ["general"], models: ["claude-sonnet-4-6"], maxConcurrent: 100 },
      callers: { ops: { admin: true } },
    }),
    counters: memoryPolicyCounters(),
  });
  const service = createExecutorService({
    gate,
    jobLeaseMs: 60_000,
    store,
    queue,
    cancelBus: recordingCancelBus(),
    agents: { has: (n) => n === "general", names: () => ["general"], modelOf: () => undefined },
    models: { supported: ["claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" },
    limits: {
      maxQueueDepth: opts.maxQueueDepth ?? 10,
      defaultBudgetUsd: 1,
      maxBudgetUsd: 2,
      defaultTimeoutSeconds: 60,
      retryAfterSeconds: 7,
    },
    clock: { now: () => new Date() },
  });
  const app = createApp({
    service,
    gate,
    auth: createAuth({
      tokens: [
        { name: "alice", token: "alice-token-1234567" },
        { name: "bob", token: "bob-token-4567890" },
        { name: "ops", token: "ops-token-4567890" },
      ],
    }),
    logger: pino({ level: "silent" }),
    metrics: createMetrics(),
    health: async () => ({ busy: false, active: 0, queued: queue.ids.length, capacity: 2 }),
    readiness: () =>
      opts.ready === false ? { ready: false, reason: "NATS is not connected" } : { ready: true },
    maxBodyBytes: 1024,
    metricsToken: "scraper-token-0123456789",
  });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: {
        authorization: "Bearer alice-token-1234567",
        "content-type": "application/json",
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
  return { app, call, queue, store };
}

describe("executor HTTP", () => {
  it("POST /execute ⇒ 202 with the job id and status; the caller comes from the token", async () => {
    const { call } = setup();
    const res = await call("POST", "/execute", { agent: "general", prompt: "hi" });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ status: "queued", duplicate: false, job: { caller: "tok_alice" } });
    expect(typeof body.jobId).toBe("string");
    const got = await call("GET", `/jobs/${body.jobId}`);
    expect(got.status).toBe(200);
    expect((await json(got)).job.id).toBe(body.jobId);
  });

  it("ownership over HTTP: bob gets 404 for alice's job, cannot cancel it, and lists only his own; ops (admin) sees all", async () => {
    const { call } = setup();
    const bob = { authorization: "Bearer bob-token-4567890" };
    const ops = { authorization: "Bearer ops-token-4567890" };
    const { jobId } = await json(await call("POST", "/execute", { agent: "general", prompt: "alice only" }));
    expect((await call("GET", `/jobs/${jobId}`, undefined, bob)).status).toBe(404);
    expect((await json(await call("GET", `/jobs/${jobId}`, undefined, bob))).error).toBe("job_not_found");
    expect((await call("DELETE", `/jobs/${jobId}`, undefined, bob)).status).toBe(404);
    expect((await json(await call("GET", "/jobs", undefined, bob))).jobs).toEqual([]);
    const mine = await json(await call("GET", "/jobs"));
    expect(mine.jobs.map((j: { id: string }) => j.id)).toEqual([jobId]);
    expect((await json(await call("GET", "/jobs", undefined, ops))).jobs).toHaveLength(1);
    expect((await call("GET", `/jobs/${jobId}`, undefined, ops)).status).toBe(200);
    expect((await call("GET", "/jobs?limit=0")).status).toBe(400);
  });

  it("GET /v1/usage shows the caller its limits and use", async () => {
    const { call } = setup();
    await call("POST", "/execute", { agent: "general", prompt: "x" });
    const usage = await json(await call("GET", "/v1/usage"));
    expect(usage).toMatchObject({
      caller: "tok_alice",
      inFlight: 1,
      requestsThisMinute: 1,
      maxConcurrent: 100,
    });
  });

  it("admitted is the gateway's NATS subject, never a field of a body", async () => {
    const res = await setup().call("POST", "/execute", { agent: "general", prompt: "x", admitted: true });
    expect(res.status).toBe(400);
  });

  it.each<[string, string | object, Record<string, string>, number, string]>([
    ["bad JSON", "{nope", {}, 400, "invalid_json"],
    ["not JSON", "agent=general", { "content-type": "text/plain" }, 415, "unsupported_media_type"],
    ["unknown field", { agent: "general", prompt: "x", tmperature: 1 }, {}, 400, "invalid_request"],
    ["missing prompt", { agent: "general" }, {}, 400, "invalid_request"],
    ["caller in the body", { agent: "general", prompt: "x", caller: "bob" }, {}, 400, "invalid_request"],
    ["unknown agent", { agent: "nope", prompt: "x" }, {}, 400, "unknown_agent"],
    ["unknown model", { agent: "general", prompt: "x", model: "gpt-4o" }, {}, 400, "model_not_supported"],
    ["oversized body", { agent: "general", prompt: "x".repeat(5000) }, {}, 413, "body_too_large"],
  ])("refuses %s", async (_n, body, headers, status, code) => {
    const { call, queue } = setup();
    const res = await call("POST", "/execute", body, headers);
    expect(res.status).toBe(status);
    expect((await json(res)).error).toBe(code);
    expect(queue.ids).toEqual([]);
  });

  it("lists the field problems of an invalid job", async () => {
    const res = await setup().call("POST", "/execute", { agent: "general", prompt: "", extra: 1 });
    const body = await json(res);
    expect(body.error).toBe("invalid_request");
    expect(body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(["prompt"]));
  });

  it("a full queue ⇒ 429 with Retry-After", async () => {
    const { call } = setup({ maxQueueDepth: 1 });
    expect((await call("POST", "/execute", { agent: "general", prompt: "1" })).status).toBe(202);
    const res = await call("POST", "/execute", { agent: "general", prompt: "2" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await json(res)).toMatchObject({ error: "queue_full", retry_after_seconds: 7 });
  });

  it("auth: missing or wrong token ⇒ 401; health endpoints stay open", async () => {
    const { app, call } = setup();
    expect((await app.request("/execute", { method: "POST" })).status).toBe(401);
    expect((await call("GET", "/jobs/x", undefined, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/health")).status).toBe(200);
  });

  it("GET/DELETE an unknown job ⇒ 404; DELETE a queued job ⇒ 202 cancelled; again ⇒ 409", async () => {
    const { call } = setup();
    expect((await call("GET", "/jobs/nope")).status).toBe(404);
    expect((await call("DELETE", "/jobs/nope")).status).toBe(404);
    const { jobId } = await json(await call("POST", "/execute", { agent: "general", prompt: "x" }));
    const del = await call("DELETE", `/jobs/${jobId}`);
    expect(del.status).toBe(202);
    expect((await json(del)).job.status).toBe("cancelled");
    const again = await call("DELETE", `/jobs/${jobId}`);
    expect(again.status).toBe(409);
    expect((await json(again)).error).toBe("job_finished");
  });

  it("/readyz follows readiness; unknown routes are JSON 404s; /metrics is Prometheus text", async () => {
    expect((await setup({ ready: false }).app.request("/readyz")).status).toBe(503);
    const { app } = setup();
    expect((await app.request("/readyz")).status).toBe(200);
    // Without credentials nothing reveals which routes exist.
    expect((await app.request("/nope")).status).toBe(401);
    const nf = await app.request("/nope", { headers: { authorization: "Bearer alice-token-1234567" } });
    expect(nf.status).toBe(404);
    expect((await json(nf)).error).toBe("not_found");
    expect((await app.request("/metrics")).status).toBe(401);
    const m = await app.request("/metrics", {
      headers: { authorization: "Bearer scraper-token-0123456789" },
    });
    expect(await m.text()).toContain("executor_jobs_submitted_total");
  });

  it("/health reports capacity and queue depth", async () => {
    const { app, call } = setup();
    await call("POST", "/execute", { agent: "general", prompt: "x" });
    expect(await json(await app.request("/health"))).toEqual({
      busy: false,
      active: 0,
      queued: 1,
      capacity: 2,
    });
  });
});
