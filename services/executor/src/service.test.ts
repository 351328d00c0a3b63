import { createPolicyGate } from "@claude-gateway/policy";
import { memoryPolicyCounters, staticPolicy } from "@claude-gateway/policy/testing";
import { describe, expect, it } from "vitest";
import { startJob } from "./core/records.js";
import {
  BadRequestError,
  JobFinishedError,
  JobNotFoundError,
  QueueFullError,
  RepoNotAllowedError,
  SessionNotFoundError,
  UnavailableError,
} from "./errors.js";
import { createExecutorService, type ServiceDeps, type SubmitLimits } from "./service.js";
import { memoryPayloads, memoryQueue, memoryStore, recordingCancelBus } from "./test-support/memory.js";
import { parseRepoAllowlist, type RefCheck } from "./workspace/index.js";

const limits: SubmitLimits = {
  maxQueueDepth: 3,
  defaultBudgetUsd: 5,
  maxBudgetUsd: 10,
  defaultTimeoutSeconds: 900,
  retryAfterSeconds: 30,
};
const now = new Date("2026-01-01T00:00:00Z");

/** Callers `a`, `b` (defaults: both agents, both models, 2 at a time), `ops` (admin). */
const POLICY = {
  defaults: {
    agents: ["general", "triage"],
    models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
    maxConcurrent: 2,
    budgetUsdPerDay: 3,
  },
  callers: { ops: { admin: true, maxConcurrent: 100 }, many: { maxConcurrent: 100 } },
};

function setup(
  over: Partial<SubmitLimits> = {},
  login?: ServiceDeps["login"],
  policy: Parameters<typeof staticPolicy>[0] = POLICY,
  extra: Partial<ServiceDeps> = {},
) {
  const store = memoryStore();
  const queue = memoryQueue();
  const cancelBus = recordingCancelBus();
  const submitted: string[] = [];
  const ended: string[] = [];
  const counters = memoryPolicyCounters();
  const gate = createPolicyGate({ policy: staticPolicy(policy), counters, now: () => now });
  const service = createExecutorService({
    gate,
    jobLeaseMs: 3_600_000,
    onEnded: (j) => ended.push(j.id),
    store,
    queue,
    cancelBus,
    agents: {
      has: (n) => n === "general" || n === "triage",
      names: () => ["general", "triage"],
      modelOf: (n) => (n === "triage" ? "claude-haiku-4-5" : undefined),
      hasNoTools: (n) => n === "triage",
    },
    models: { supported: ["claude-haiku-4-5", "claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" },
    limits: { ...limits, ...over },
    clock: { now: () => now },
    onSubmitted: (j) => submitted.push(j.id),
    ...(login ? { login } : {}),
    ...extra,
  });
  return { store, queue, cancelBus, service, submitted, ended, gate };
}

describe("submit with the caller's tools", () => {
  const tools = [{ name: "get_weather", inputSchema: { type: "object" } }];
  it("only an agent without tools of its own takes them", async () => {
    const { service } = setup();
    await expect(service.submit({ agent: "general", prompt: "x", tools }, "tok_alice")).rejects.toMatchObject(
      {
        status: 400,
        code: "tools_not_allowed",
      },
    );
    const { job } = await service.submit({ agent: "triage", prompt: "x", tools }, "tok_alice");
    expect(job.submission.tools).toEqual(tools);
  });
  it("an admitted one holds the gateway's in-flight slot under its own id, given back when it ends", async () => {
    const { service } = setup();
    const admitted = await service.submit({ agent: "triage", prompt: "x", tools }, "tok_alice", {
      admitted: true,
    });
    expect(admitted.job.lease).toBe(admitted.job.id);
    // Without tools the gateway keeps (and gives back) the slot itself.
    const plain = await service.submit({ agent: "triage", prompt: "x" }, "tok_alice", { admitted: true });
    expect(plain.job.lease).toBeUndefined();
  });
});

describe("submit", () => {
  it("queues a job with defaults filled in and the caller recorded", async () => {
    const { service, queue, submitted } = setup();
    const { job, duplicate } = await service.submit({ agent: "general", prompt: "hi" }, "tok_alice");
    expect(duplicate).toBe(false);
    expect(job).toMatchObject({
      status: "queued",
      caller: "tok_alice",
      model: "claude-sonnet-4-6",
      agent: "general",
    });
    // The asked-for (default) budget, capped at what is left of the caller's day ($3).
    expect(job.submission).toMatchObject({ budgetUsd: 3, timeoutSeconds: 900, caller: "tok_alice" });
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.lease).toBe(job.id);
    expect(queue.ids).toEqual([job.id]);
    expect(submitted).toEqual([job.id]);
  });
  it("uses the agent's model when none is asked for, the asked one otherwise", async () => {
    const { service } = setup();
    expect((await service.submit({ agent: "triage", prompt: "x" }, "tok_many")).job.model).toBe(
      "claude-haiku-4-5",
    );
    expect(
      (await service.submit({ agent: "triage", prompt: "x", model: "claude-sonnet-4-6" }, "tok_many")).job
        .model,
    ).toBe("claude-sonnet-4-6");
  });
  it("is idempotent on the caller's own id, which is scoped per caller", async () => {
    const { service, queue } = setup();
    const a = await service.submit({ id: "same", agent: "general", prompt: "1" }, "tok_many");
    const b = await service.submit({ id: "same", agent: "general", prompt: "2" }, "tok_many");
    expect(b).toEqual({ job: a.job, duplicate: true });
    expect(a.job).toMatchObject({ clientId: "same" });
    expect(a.job.id).not.toBe("same");
    // Another caller's same id is another job.
    const other = await service.submit({ id: "same", agent: "general", prompt: "3" }, "tok_bob");
    expect(other.duplicate).toBe(false);
    expect(other.job.id).not.toBe(a.job.id);
    expect(queue.ids).toEqual([a.job.id, other.job.id]);
    // Each gets its own job by that id.
    expect((await service.get("same", "tok_many")).id).toBe(a.job.id);
    expect((await service.get("same", "tok_bob")).id).toBe(other.job.id);
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
    const err = await service.submit(sub, "tok_many").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ code, status: 400 });
    expect((err as Error).message).toMatch(message);
    expect(queue.ids).toEqual([]);
    expect(store.records.size).toBe(0);
  });
  it("answers 429 with a retry hint when the queue is full, and loses nothing", async () => {
    const { service, queue } = setup({ maxQueueDepth: 2 });
    await service.submit({ agent: "general", prompt: "1" }, "tok_many");
    await service.submit({ agent: "general", prompt: "2" }, "tok_many");
    const err = await service.submit({ agent: "general", prompt: "3" }, "tok_many").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect(queue.ids).toHaveLength(2);
  });
  it("a prompt whose record would take over half of what the bus carries is a 413; nothing is recorded or queued", async () => {
    const { service, queue, store } = setup({ maxRecordBytes: 8_000 });
    await service.submit({ agent: "general", prompt: "x".repeat(2_000) }, "tok_many");
    const err = await service
      .submit({ agent: "general", prompt: "x".repeat(5_000) }, "tok_many")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 413, code: "prompt_too_large" });
    expect((err as Error).message).toMatch(/at most 4000/);
    expect(queue.ids).toHaveLength(1);
    expect(store.records.size).toBe(1);
  });
  it("a prompt too large for its record goes to the payload store; the record keeps its beginning and the reference", async () => {
    const payloads = memoryPayloads();
    const { service, queue, store } = setup({ maxRecordBytes: 8_000 }, undefined, POLICY, { payloads });
    const prompt = `${"é".repeat(4_999)}END`;
    const { job } = await service.submit({ agent: "general", prompt }, "tok_many");
    expect(job.promptRef).toEqual({ object: `jobs/${job.id}/prompt`, bytes: Buffer.byteLength(prompt) });
    expect(job.submission.prompt).toBe("é".repeat(1000));
    expect(payloads.objects.get(`jobs/${job.id}/prompt`)).toBe(prompt);
    expect(store.records.get(`tok_many.${job.id}`)?.promptRef).toEqual(job.promptRef);
    expect(queue.ids).toEqual([job.id]);
  });
  it("a small prompt stays in the record, the payload store untouched", async () => {
    const payloads = memoryPayloads();
    const { service } = setup({ maxRecordBytes: 8_000 }, undefined, POLICY, { payloads });
    const { job } = await service.submit({ agent: "general", prompt: "x".repeat(2_000) }, "tok_many");
    expect(job.promptRef).toBeUndefined();
    expect(job.submission.prompt).toHaveLength(2_000);
    expect(payloads.objects.size).toBe(0);
  });
  it("a payload store that cannot take the prompt: 503, nothing recorded or queued, the caller's slot back", async () => {
    const payloads = memoryPayloads();
    payloads.down = true;
    const { service, queue, store } = setup({ maxRecordBytes: 8_000 }, undefined, POLICY, { payloads });
    const err = await service
      .submit({ agent: "general", prompt: "x".repeat(5_000) }, "tok_a")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "payload_store_unavailable" });
    expect(queue.ids).toHaveLength(0);
    expect(store.records.size).toBe(0);
    payloads.down = false;
    // tok_a may have 2 in flight: both slots are free.
    await service.submit({ agent: "general", prompt: "1" }, "tok_a");
    await service.submit({ agent: "general", prompt: "2" }, "tok_a");
  });
  it("a prompt by reference is the gateway's (admitted) and names an object under the caller's own prefix", async () => {
    const payloads = memoryPayloads();
    const { service } = setup({}, undefined, POLICY, { payloads });
    const promptRef = { object: "incoming/tok_a/0b4c", bytes: 12 };
    // A caller of its own may not point a job at an object (another caller's prompt, say).
    for (const [caller, admitted] of [
      ["tok_a", false],
      ["tok_b", true],
    ] as const) {
      const err = await service
        .submit({ agent: "general", prompt: "begin", promptRef }, caller, { admitted })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, code: "prompt_ref_not_allowed" });
    }
    const tooLarge = await service
      .submit({ agent: "general", prompt: "b", promptRef: { ...promptRef, bytes: 5_000_000 } }, "tok_a", {
        admitted: true,
      })
      .catch((e: unknown) => e);
    expect(tooLarge).toMatchObject({ status: 413, code: "prompt_too_large" });
    const { job } = await service.submit({ agent: "general", prompt: "begin", promptRef }, "tok_a", {
      admitted: true,
    });
    expect(job.promptRef).toEqual(promptRef);
    expect(job.submission).not.toHaveProperty("promptRef");
    expect(job.submission.prompt).toBe("begin");
  });
  it("images: a reference only from the gateway under the caller's prefix; each checked as an image within its size", async () => {
    const payloads = memoryPayloads();
    const { service, queue } = setup({}, undefined, POLICY, { payloads });
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(40)]).toString("base64");
    const refused = async (images: unknown[], admitted = false) =>
      service
        .submit({ agent: "general", prompt: "look", images } as never, "tok_a", { admitted })
        .catch((e: unknown) => e);
    const ref = { mediaType: "image/png", ref: { object: "incoming/tok_a/i1", bytes: 64 } };
    expect(await refused([ref])).toMatchObject({
      status: 400,
      code: "image_ref_not_allowed",
      issues: [{ path: "images.0.ref" }],
    });
    expect(
      await refused([{ mediaType: "image/png", ref: { object: "incoming/tok_b/i1", bytes: 64 } }], true),
    ).toMatchObject({ status: 400, code: "image_ref_not_allowed" });
    expect(
      await refused([
        { mediaType: "image/png", data: png },
        { mediaType: "image/png", data: Buffer.from("plain text").toString("base64") },
      ]),
    ).toMatchObject({ status: 400, code: "invalid_image", issues: [{ path: "images.1.data" }] });
    expect(
      await refused(
        [{ mediaType: "image/png", ref: { object: "incoming/tok_a/i1", bytes: 8_000_000 } }],
        true,
      ),
    ).toMatchObject({ status: 400, code: "image_too_large" });
    expect(queue.ids).toEqual([]);
    const { job } = await service.submit(
      { agent: "general", prompt: "look", images: [{ mediaType: "image/jpeg", data: png }, ref] } as never,
      "tok_a",
      { admitted: true },
    );
    expect(job.submission.images).toEqual([{ mediaType: "image/jpeg", data: png }, ref]);
    expect(payloads.objects.size).toBe(0);
  });
  it("images too large for the record go to the payload store (before the prompt); the record names them", async () => {
    const payloads = memoryPayloads();
    const { service } = setup({ maxRecordBytes: 40_000 }, undefined, POLICY, { payloads });
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(15_000)]).toString(
      "base64",
    );
    const small = Buffer.from("474946383961", "hex").toString("base64");
    const { job } = await service.submit(
      {
        agent: "general",
        prompt: "compare",
        images: [
          { mediaType: "image/png", data: png },
          { mediaType: "image/gif", data: small },
        ],
      },
      "tok_a",
    );
    expect(job.submission.images).toEqual([
      { mediaType: "image/png", ref: { object: `jobs/${job.id}/images/0`, bytes: png.length } },
      { mediaType: "image/gif", ref: { object: `jobs/${job.id}/images/1`, bytes: small.length } },
    ]);
    expect(payloads.objects.get(`jobs/${job.id}/images/0`)).toBe(png);
    // The prompt was small enough to stay.
    expect(job.promptRef).toBeUndefined();
    expect(job.submission.prompt).toBe("compare");

    payloads.down = true;
    const err = await service
      .submit({ agent: "general", prompt: "again", images: [{ mediaType: "image/png", data: png }] }, "tok_a")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "payload_store_unavailable" });
  });
  it("removes the record when the queue refuses the job (not accepted ⇒ not recorded)", async () => {
    const { service, queue, store } = setup();
    queue.failNext = true;
    const err = await service
      .submit({ id: "x", agent: "general", prompt: "1" }, "tok_many")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(store.records.size).toBe(0);
    // The caller's id and its in-flight slot are free again.
    const again = await service.submit({ id: "x", agent: "general", prompt: "1" }, "tok_many");
    expect(again.duplicate).toBe(false);
  });
});

describe("without a CLI login", () => {
  it("refuses with 503 claude_not_authenticated and queues nothing", async () => {
    const { service, queue, store } = setup({}, () => ({ ok: false, reason: "set CLAUDE_CODE_OAUTH_TOKEN" }));
    const err = await service.submit({ agent: "general", prompt: "x" }, "tok_many").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ status: 503, code: "claude_not_authenticated" });
    expect(queue.ids).toEqual([]);
    expect(store.records.size).toBe(0);
  });
});

describe("get and cancel", () => {
  it("get: 404 for an unknown id", async () => {
    await expect(setup().service.get("nope", "tok_many")).rejects.toBeInstanceOf(JobNotFoundError);
  });
  it("cancel of a queued job is immediate and final", async () => {
    const { service, cancelBus } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "x" }, "tok_many");
    const cancelled = await service.cancel(job.id, "tok_many", "changed my mind");
    expect(cancelled).toMatchObject({
      status: "cancelled",
      error: { reason: "cancelled", message: "changed my mind" },
    });
    expect(cancelBus.sent).toEqual([]);
    await expect(service.cancel(job.id, "tok_many")).rejects.toBeInstanceOf(JobFinishedError);
  });
  it("cancel of a running job is broadcast to the replica running it", async () => {
    const { service, store, cancelBus } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "x" }, "tok_many");
    await store.update(job.caller, job.id, (r) => startJob(r, { executor: "e1", now }));
    const r = await service.cancel(job.id, "tok_many", "stop");
    expect(r.status).toBe("running");
    expect(cancelBus.sent).toEqual([{ id: job.id, reason: "stop" }]);
    // …and written into its record, for the replica's next heartbeat should the broadcast be lost.
    expect(r.cancelRequested).toEqual({ at: now.toISOString(), reason: "stop" });
    expect((await store.get(job.caller, job.id))!.cancelRequested?.reason).toBe("stop");
  });
  it("cancel of an unknown job is a 404", async () => {
    await expect(setup().service.cancel("nope", "tok_many")).rejects.toBeInstanceOf(JobNotFoundError);
  });
});

describe("ownership", () => {
  it("another caller cannot read or cancel a job: 404, as if it did not exist", async () => {
    const { service } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "alice's secret" }, "tok_alice");
    await expect(service.get(job.id, "tok_bob")).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(service.cancel(job.id, "tok_bob")).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await service.get(job.id, "tok_alice")).status).toBe("queued");
  });

  it("an admin reads, lists and cancels anyone's", async () => {
    const { service } = setup();
    const { job } = await service.submit({ agent: "general", prompt: "x" }, "tok_alice");
    expect((await service.get(job.id, "tok_ops")).caller).toBe("tok_alice");
    expect((await service.list("tok_ops")).jobs.map((j) => j.id)).toEqual([job.id]);
    expect((await service.cancel(job.id, "tok_ops")).status).toBe("cancelled");
  });

  it("list: the caller's own jobs, newest first, paged", async () => {
    const { service, store } = setup({ maxQueueDepth: 10 });
    const ids: string[] = [];
    for (const p of ["1", "2", "3"]) {
      const { job } = await service.submit({ agent: "general", prompt: p }, "tok_many");
      // Distinct times, so the order is by time.
      await store.update(job.caller, job.id, (r) => ({ ...r, queuedAt: `2026-01-01T00:00:0${p}.000Z` }));
      ids.push(job.id);
    }
    await service.submit({ agent: "general", prompt: "not mine" }, "tok_bob");
    const first = await service.list("tok_many", { limit: 2 });
    expect(first.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await service.list("tok_many", { limit: 2, after: first.next! });
    expect(second).toEqual({ jobs: [expect.objectContaining({ id: ids[0] })] });
    // Only an admin may name another caller.
    expect((await service.list("tok_bob", { caller: "tok_many" })).jobs).toHaveLength(1);
  });

  it("a session is resumable only by the caller whose job recorded it", async () => {
    const { service, store } = setup();
    const session = "6d1f4c1e-9a51-4a43-9f0e-5d7e4c1b2a33";
    await store.addSession("tok_alice", session);
    const resume = { agent: "general", prompt: "go on", session: { kind: "resume" as const, id: session } };
    await expect(service.submit(resume, "tok_bob")).rejects.toBeInstanceOf(SessionNotFoundError);
    expect((await service.submit(resume, "tok_alice")).job.submission.session).toEqual(resume.session);
  });
});

describe("the caller policy", () => {
  it("an agent or a model outside it: 403, nothing queued", async () => {
    const { service, queue } = setup({}, undefined, { defaults: { agents: ["triage"] } });
    await expect(service.submit({ agent: "general", prompt: "x" }, "tok_a")).rejects.toMatchObject({
      status: 403,
      code: "agent_not_allowed",
    });
    await expect(
      service.submit({ agent: "triage", prompt: "x", model: "claude-sonnet-4-6" }, "tok_a", {
        admitted: true,
      }),
    ).resolves.toBeDefined();
    await expect(
      service.submit({ agent: "triage", prompt: "x", model: "claude-opus-5-5" }, "tok_a"),
    ).rejects.toMatchObject({ status: 400, code: "model_not_supported" });
    expect(queue.ids).toHaveLength(1);
  });

  it("in flight: the caller's queued and running jobs count; an ended job gives its slot back", async () => {
    const { service, ended } = setup();
    const one = await service.submit({ agent: "general", prompt: "1" }, "tok_a");
    await service.submit({ agent: "general", prompt: "2" }, "tok_a");
    await expect(service.submit({ agent: "general", prompt: "3" }, "tok_a")).rejects.toMatchObject({
      status: 429,
      code: "too_many_in_flight",
    });
    await service.cancel(one.job.id, "tok_a");
    expect(ended).toEqual([one.job.id]);
    // The cancelled job's lease is dropped once its record says it has ended.
    await service.submit({ agent: "general", prompt: "3" }, "tok_a");
  });

  it("an admitted submission (the gateway counted it) is not counted again", async () => {
    const { service, gate } = setup();
    for (const p of ["1", "2", "3"]) {
      await service.submit({ agent: "general", prompt: p }, "tok_a", { admitted: true });
    }
    expect((await gate.usage("tok_a")).inFlight).toBe(0);
  });

  it("over the day's budget: 429 daily_budget_exceeded; a job's budget is capped at what is left", async () => {
    const { service, gate } = setup();
    await gate.recordSpend("tok_a", 2.5);
    const { job } = await service.submit({ agent: "general", prompt: "x", budgetUsd: 2 }, "tok_a");
    expect(job.submission.budgetUsd).toBeCloseTo(0.5);
    await gate.recordSpend("tok_a", 0.5);
    await expect(service.submit({ agent: "general", prompt: "y" }, "tok_a")).rejects.toMatchObject({
      status: 429,
      code: "daily_budget_exceeded",
    });
  });
});

describe("repositories", () => {
  const ACME = parseRepoAllowlist("https://github.com/acme/,/srv/repos/").allowlist;
  /** Refs as a repository has them; every look-up recorded. */
  const refsOf = (known: Record<string, RefCheck["status"]>) => {
    const asked: string[] = [];
    return {
      asked,
      refs: {
        checkRef: async (repo: string, ref: string): Promise<RefCheck> => {
          asked.push(`${repo}@${ref}`);
          const status = known[ref] ?? "missing";
          return status === "missing"
            ? { status, detail: `"${ref}" is not a branch or tag of ${repo}` }
            : status === "unknown"
              ? { status, why: "cannot tell" }
              : { status };
        },
      },
    };
  };

  it("without REPO_ALLOWLIST none may be cloned: 403 naming the variable; jobs without one still run", async () => {
    const { service, queue, gate } = setup();
    const refused = service.submit(
      { agent: "general", prompt: "x", repo: "https://github.com/acme/app" },
      "tok_a",
    );
    await expect(refused).rejects.toBeInstanceOf(RepoNotAllowedError);
    await expect(refused).rejects.toMatchObject({
      status: 403,
      code: "repo_not_allowed",
      detail: expect.stringContaining("REPO_ALLOWLIST is not set"),
      issues: [{ path: "repo", message: expect.stringContaining("REPO_ALLOWLIST") }],
    });
    expect(queue.ids).toEqual([]);
    expect((await gate.usage("tok_a")).inFlight).toBe(0);
    await expect(service.submit({ agent: "general", prompt: "no repo" }, "tok_a")).resolves.toBeDefined();
  });

  it("queues what the allowlist names; refuses the rest with why, taking no slot", async () => {
    const { service, queue, gate } = setup({}, undefined, POLICY, { repoAllowlist: ACME });
    for (const repo of [
      "https://github.com/acme/app",
      "https://GitHub.com/acme/app.git",
      "/srv/repos/tool",
    ]) {
      await service.submit({ agent: "general", prompt: "x", repo }, "tok_many");
    }
    expect(queue.ids).toHaveLength(3);
    for (const repo of [
      "https://github.com/acme-evil/app",
      "file:///etc/x",
      "/srv/other/app",
      "git@github.com:acme/app",
    ]) {
      await expect(service.submit({ agent: "general", prompt: "x", repo }, "tok_a")).rejects.toMatchObject({
        status: 403,
        code: "repo_not_allowed",
      });
    }
    expect(queue.ids).toHaveLength(3);
    expect((await gate.usage("tok_a")).inFlight).toBe(0);
  });

  it("a URL with credentials is a 400 whatever the allowlist says, the secret never echoed", async () => {
    const { service, queue } = setup({}, undefined, POLICY, {
      repoAllowlist: parseRepoAllowlist("host:*").allowlist,
    });
    for (const repo of [
      "https://x-access-token:ghs_SECRET@github.com/acme/app",
      "https://ghp_SECRET@github.com/acme/app",
    ]) {
      const error = await service
        .submit({ agent: "general", prompt: "x", repo }, "tok_a")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({ status: 400, code: "repo_credentials_not_allowed" });
      expect(JSON.stringify(error)).not.toContain("SECRET");
      expect((error as Error).message).not.toContain("SECRET");
    }
    expect(queue.ids).toEqual([]);
  });

  it("a repository or ref the workspace could not use is a 400", async () => {
    const { service } = setup({}, undefined, POLICY, { repoAllowlist: ACME });
    await expect(
      service.submit({ agent: "general", prompt: "x", repo: "ext::sh -c touch% /tmp/pwned" }, "tok_a"),
    ).rejects.toMatchObject({ status: 400, code: "invalid_repo" });
    await expect(
      service.submit({ agent: "general", prompt: "x", repo: "https://github.com/acme/../evil/app" }, "tok_a"),
    ).rejects.toMatchObject({ status: 400, code: "invalid_repo" });
    await expect(
      service.submit(
        { agent: "general", prompt: "x", repo: "https://github.com/acme/app", ref: "main..evil" },
        "tok_a",
      ),
    ).rejects.toMatchObject({ status: 400, code: "invalid_ref", issues: [{ path: "ref" }] });
  });

  it("a ref the repository lacks is a 400 now, not a failed job later; what cannot be told is queued", async () => {
    const { refs, asked } = refsOf({ main: "found", deadbeef: "unknown" });
    const { service, queue, gate } = setup({ maxQueueDepth: 100 }, undefined, POLICY, {
      repoAllowlist: ACME,
      refs,
    });
    const repo = "https://github.com/acme/app";
    await service.submit({ agent: "general", prompt: "x", repo, ref: "main" }, "tok_many");
    await service.submit({ agent: "general", prompt: "x", repo, ref: "deadbeef" }, "tok_many");
    await service.submit({ agent: "general", prompt: "x", repo }, "tok_many"); // the default branch: not asked
    await expect(
      service.submit({ agent: "general", prompt: "x", repo, ref: "typo" }, "tok_a"),
    ).rejects.toMatchObject({
      status: 400,
      code: "ref_not_found",
      detail: `"typo" is not a branch or tag of ${repo}`,
      issues: [{ path: "ref" }],
    });
    expect(queue.ids).toHaveLength(3);
    expect((await gate.usage("tok_a")).inFlight).toBe(0);
    expect(asked).toEqual([`${repo}@main`, `${repo}@deadbeef`, `${repo}@typo`]);

    // A duplicate of an accepted job is answered from its record, without asking again.
    await service.submit({ id: "once", agent: "general", prompt: "x", repo, ref: "main" }, "tok_many");
    await service.submit({ id: "once", agent: "general", prompt: "x", repo, ref: "main" }, "tok_many");
    expect(asked).toHaveLength(4);
  });
});
