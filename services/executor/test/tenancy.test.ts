import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RemoteServiceError } from "@claude-gateway/nats";
import { text } from "@claude-gateway/testkit";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { RunningExecutor } from "../src/start.js";
import { createWorld, type Json, overNats, type World } from "./harness.js";

// Two callers, an admin and a caller on a tiny budget, against real executors on one real
// nats-server and the real CLI: what one caller may see, run and spend of the shared executor.
const TOKENS = {
  alice: "alice-token-0123456789",
  bob: "bob-token-01234567890",
  ops: "ops-token-01234567890",
  thrifty: "thrifty-token-0123456",
  hasty: "hasty-token-012345678",
  single: "single-token-01234567",
};
const POLICY = `
defaults:
  agents: [recruiter-triage]
  models: [claude-haiku-4-5, claude-sonnet-4-6]
  maxConcurrent: 5
  requestsPerMinute: 100
  budgetUsdPerDay: 10
callers:
  ops: { admin: true }
  thrifty: { budgetUsdPerDay: 0.000001 }
  hasty: { requestsPerMinute: 2 }
  single: { maxConcurrent: 1 }
`;

let world: World;
let r1: RunningExecutor;
let r2: RunningExecutor;

beforeAll(async () => {
  world = await createWorld();
  const policy = join(world.dir, "policy.yaml");
  // The service's alone: an isolated executor refuses to start beside a policy others can read.
  await writeFile(policy, POLICY, { mode: 0o600 });
  const env = {
    AUTH_TOKENS: Object.entries(TOKENS)
      .map(([name, token]) => `${name}=${token}`)
      .join(","),
    CALLER_POLICY_FILE: policy,
  };
  // Two replicas sharing the queue, the records and the policy counters.
  r1 = await world.start(env);
  r2 = await world.start(env);
  world.stub.setHandler((req) =>
    JSON.stringify(req.body.messages).includes("[hang]") ? { kind: "hang" } : undefined,
  );
  world.stub.setDefault(text("triaged"));
});
afterAll(async () => {
  await world?.close();
});

const as = (who: keyof typeof TOKENS) => ({
  authorization: `Bearer ${TOKENS[who]}`,
  "content-type": "application/json",
});
async function call(
  ex: RunningExecutor,
  who: keyof typeof TOKENS,
  method: string,
  path: string,
  body?: object,
) {
  const res = await fetch(`${ex.url}${path}`, {
    method,
    headers: as(who),
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}
async function finished(ex: RunningExecutor, who: keyof typeof TOKENS, id: string): Promise<Json> {
  for (;;) {
    const { body } = await call(ex, who, "GET", `/jobs/${id}`);
    if (["succeeded", "failed", "timed_out", "cancelled"].includes(body.job.status)) return body.job;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const job = (prompt: string, extra: object = {}) => ({ agent: "recruiter-triage", prompt, ...extra });

describe("ownership across callers", () => {
  it("bob cannot read, cancel, list or resume alice's jobs and sessions, over HTTP or NATS", async () => {
    const submitted = await call(
      r1,
      "alice",
      "POST",
      "/execute",
      job("alice's secret", { session: { kind: "new" } }),
    );
    expect(submitted.status).toBe(202);
    const id = submitted.body.jobId as string;
    const done = await finished(r1, "alice", id);
    expect(done).toMatchObject({ status: "succeeded", caller: "tok_alice" });

    for (const ex of [r1, r2]) {
      const read = await call(ex, "bob", "GET", `/jobs/${id}`);
      expect(read).toMatchObject({ status: 404, body: { error: "job_not_found" } });
      expect(JSON.stringify(read.body)).not.toContain("secret");
      expect((await call(ex, "bob", "DELETE", `/jobs/${id}`)).status).toBe(404);
      expect((await call(ex, "bob", "GET", "/jobs")).body.jobs).toEqual([]);
    }
    const resume = await call(
      r2,
      "bob",
      "POST",
      "/execute",
      job("go on", { session: { kind: "resume", id: done.result.sessionId } }),
    );
    expect(resume).toMatchObject({ status: 404, body: { error: "session_not_found" } });

    const nc = await connect({ servers: world.nats.url });
    try {
      const overNatsAsBob = await overNats(nc, "tok_bob")
        .get(id)
        .catch((e: unknown) => e);
      expect(overNatsAsBob).toBeInstanceOf(RemoteServiceError);
      expect(overNatsAsBob).toMatchObject({ status: 404, code: "job_not_found" });
      expect((await overNats(nc, "tok_alice").get(id)).job.id).toBe(id);
    } finally {
      await nc.close();
    }

    // Alice resumes her own session; her list has both jobs, newest first.
    const again = await call(
      r2,
      "alice",
      "POST",
      "/execute",
      job("go on", { session: { kind: "resume", id: done.result.sessionId } }),
    );
    expect(again.status).toBe(202);
    await finished(r2, "alice", again.body.jobId);
    const list = await call(r1, "alice", "GET", "/jobs");
    expect(list.body.jobs.map((j: Json) => j.id)).toEqual([again.body.jobId, id]);
  });

  it("the same client id under alice and bob makes two jobs; each finds its own by that id", async () => {
    const a = await call(r1, "alice", "POST", "/execute", job("a", { id: "order-42" }));
    const b = await call(r2, "bob", "POST", "/execute", job("b", { id: "order-42" }));
    expect([a.body.duplicate, b.body.duplicate]).toEqual([false, false]);
    expect(a.body.jobId).not.toBe(b.body.jobId);
    expect((await call(r2, "alice", "GET", "/jobs/order-42")).body.job.id).toBe(a.body.jobId);
    expect((await call(r1, "bob", "GET", "/jobs/order-42")).body.job.id).toBe(b.body.jobId);
    const repeat = await call(r2, "alice", "POST", "/execute", job("again", { id: "order-42" }));
    expect(repeat.body).toMatchObject({ duplicate: true, jobId: a.body.jobId });
    await finished(r1, "alice", a.body.jobId);
    await finished(r1, "bob", b.body.jobId);
  });

  it("an admin reads, lists and cancels everyone's", async () => {
    const mine = await call(r1, "bob", "POST", "/execute", job("bob's"));
    expect((await call(r2, "ops", "GET", `/jobs/${mine.body.jobId}`)).body.job.caller).toBe("tok_bob");
    const all = (await call(r2, "ops", "GET", "/jobs")).body.jobs.map((j: Json) => j.caller);
    expect(new Set(all)).toEqual(new Set(["tok_alice", "tok_bob"]));
    const onlyBob = (await call(r2, "ops", "GET", "/jobs?caller=tok_bob")).body.jobs.map(
      (j: Json) => j.caller,
    );
    expect(new Set(onlyBob)).toEqual(new Set(["tok_bob"]));
    await finished(r1, "bob", mine.body.jobId);
  });
});

describe("the caller policy, enforced by every replica alike", () => {
  it("budget below one run's cost: the first job runs, the next is a 429 daily_budget_exceeded on the other replica", async () => {
    const first = await call(r1, "thrifty", "POST", "/execute", job("one"));
    expect(first.status).toBe(202);
    const done = await finished(r1, "thrifty", first.body.jobId);
    // Its budget was capped at what was left of the day; the one message that answered passed it,
    // and the answer is kept.
    expect(done).toMatchObject({ status: "succeeded", result: { text: "triaged" } });
    expect(done.submission.budgetUsd).toBe(0.000001);
    expect(done.costUsd).toBeGreaterThan(0.000001);
    // The spend was recorded when the run ended; the other replica sees it.
    const second = await call(r2, "thrifty", "POST", "/execute", job("two"));
    expect(second).toMatchObject({ status: 429, body: { error: "daily_budget_exceeded" } });
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
    const usage = await call(r2, "thrifty", "GET", "/v1/usage");
    expect(usage.body).toMatchObject({ caller: "tok_thrifty", budgetUsdPerDay: 0.000001, budgetLeftUsd: 0 });
    expect(usage.body.spentUsdToday).toBeCloseTo(done.costUsd, 6);
  });

  it("rate: the minute's limit counts across replicas, then 429 rate_limited with Retry-After", async () => {
    const ids: string[] = [];
    for (const ex of [r1, r2]) {
      const r = await call(ex, "hasty", "POST", "/execute", job("quick"));
      expect(r.status).toBe(202);
      ids.push(r.body.jobId);
    }
    const third = await call(r1, "hasty", "POST", "/execute", job("one too many"));
    expect(third).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    for (const id of ids) await finished(r2, "hasty", id);
  });

  it("in flight: a caller's running and queued jobs count; cancelling one frees its slot", async () => {
    const running = await call(r1, "single", "POST", "/execute", job("[hang] long"));
    expect(running.status).toBe(202);
    const refused = await call(r2, "single", "POST", "/execute", job("another"));
    expect(refused).toMatchObject({ status: 429, body: { error: "too_many_in_flight" } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Other callers are not held up by this one.
    const other = await call(r2, "bob", "POST", "/execute", job("bob is fine"));
    expect(other.status).toBe(202);
    expect((await call(r1, "single", "DELETE", `/jobs/${running.body.jobId}`)).status).toBe(202);
    await finished(r1, "single", running.body.jobId);
    const next = await call(r2, "single", "POST", "/execute", job("now it fits"));
    expect(next.status).toBe(202);
    await finished(r2, "single", next.body.jobId);
    await finished(r2, "bob", other.body.jobId);
  });

  it("an agent outside the policy is a 403 listing what is allowed", async () => {
    const r = await call(r1, "bob", "POST", "/execute", { agent: "general", prompt: "rm -rf /" });
    expect(r).toMatchObject({ status: 403, body: { error: "agent_not_allowed" } });
    expect(r.body.detail).toContain("recruiter-triage");
  });

  it("a bad policy file stops the start with every problem listed", async () => {
    const bad = join(world.dir, "bad-policy.yaml");
    await writeFile(
      bad,
      "defaults: { maxConcurrent: 0, agentz: [x] }\ncallers: { ci: { budgetUsdPerDay: -1 } }\n",
      { mode: 0o600 },
    );
    const config = loadConfig({ ...world.baseEnv(), CALLER_POLICY_FILE: bad });
    const err = await world.start({ CALLER_POLICY_FILE: bad }).catch((e: unknown) => e);
    expect(config.env.CALLER_POLICY_FILE).toBe(bad);
    expect((err as Error).message).toMatch(/defaults\.maxConcurrent/);
    expect((err as Error).message).toMatch(/agentz/);
    expect((err as Error).message).toMatch(/callers\.ci\.budgetUsdPerDay/);
  });
});
