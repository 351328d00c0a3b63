import { type NatsServer, startNatsServer } from "@claude-gateway/testkit/nats-server";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallerPolicy,
  DailyBudgetExceededError,
  type EffectiveLimits,
  ensureCounterBuckets,
  natsPolicyCounters,
  type PolicyCounters,
  RateLimitedError,
  TooManyInFlightError,
} from "../src/index.js";
import { memoryPolicyCounters } from "../src/testing.js";

// One conformance suite for both implementations of the counters: in memory (unit tests of the
// services use it) and in NATS KV (what replicas share), against a real nats-server.
let server: NatsServer;
const connections: NatsConnection[] = [];
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

/** A replica's view of the shared buckets: its own connection. */
async function natsReplica(): Promise<PolicyCounters> {
  const nc = await connect({ servers: server.url });
  connections.push(nc);
  return natsPolicyCounters(await ensureCounterBuckets(jetstream(nc)));
}

const limits = (over: Partial<EffectiveLimits> = {}): EffectiveLimits => ({
  ...CallerPolicy.builtIn().limitsFor("tok_x"),
  ...over,
});
const at = (iso: string) => new Date(iso);
let n = 0;
/** A caller of its own per test, so the shared buckets need no cleanup. */
const caller = () => `tok_caller${++n}`;

describe.each<[string, () => Promise<PolicyCounters>]>([
  ["in memory", async () => memoryPolicyCounters()],
  ["in NATS KV", natsReplica],
])("policy counters %s", (_name, make) => {
  it("in flight: at the limit a new lease is refused with 429 until one is released", async () => {
    const c = await make();
    const p = caller();
    const now = at("2026-12-04T10:00:00Z");
    const lim = limits({ maxConcurrent: 2 });
    await c.admit({ principal: p, limits: lim, leaseId: "a", leaseMs: 60_000, now });
    await c.admit({ principal: p, limits: lim, leaseId: "b", leaseMs: 60_000, now });
    const err = await c
      .admit({ principal: p, limits: lim, leaseId: "c", leaseMs: 60_000, now })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TooManyInFlightError);
    expect(err).toMatchObject({ status: 429, code: "too_many_in_flight", retryAfterSeconds: 5 });
    await c.release(p, "a");
    await c.admit({ principal: p, limits: lim, leaseId: "c", leaseMs: 60_000, now });
    expect((await c.usage(p, now)).inFlight).toBe(2);
  });

  it("a lease lapses on its own (a replica that died mid-run)", async () => {
    const c = await make();
    const p = caller();
    const lim = limits({ maxConcurrent: 1 });
    await c.admit({
      principal: p,
      limits: lim,
      leaseId: "a",
      leaseMs: 1_000,
      now: at("2026-12-04T10:00:00Z"),
    });
    const later = at("2026-12-04T10:00:02Z");
    await c.admit({ principal: p, limits: lim, leaseId: "b", leaseMs: 1_000, now: later });
    expect((await c.usage(p, later)).inFlight).toBe(1);
  });

  it("at the limit, leases whose work is gone are dropped (isLive)", async () => {
    const c = await make();
    const p = caller();
    const now = at("2026-12-04T10:00:00Z");
    const lim = limits({ maxConcurrent: 1 });
    await c.admit({ principal: p, limits: lim, leaseId: "finished-job", leaseMs: 3_600_000, now });
    await c.admit({
      principal: p,
      limits: lim,
      leaseId: "next-job",
      leaseMs: 3_600_000,
      now,
      isLive: async (id) => id !== "finished-job",
    });
    expect((await c.usage(p, now)).inFlight).toBe(1);
  });

  it("rate: the minute's requests are counted once each; over the limit 429 until the minute ends", async () => {
    const c = await make();
    const p = caller();
    const lim = limits({ requestsPerMinute: 2, maxConcurrent: 10 });
    const now = at("2026-12-04T10:00:45Z");
    for (const id of ["a", "b"]) {
      await c.admit({ principal: p, limits: lim, leaseId: id, leaseMs: 1_000, now });
    }
    const err = await c
      .admit({ principal: p, limits: lim, leaseId: "c", leaseMs: 1_000, now })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 15 });
    // The refused request holds no slot.
    expect((await c.usage(p, now)).inFlight).toBe(2);
    await c.admit({
      principal: p,
      limits: lim,
      leaseId: "d",
      leaseMs: 1_000,
      now: at("2026-12-04T10:01:00Z"),
    });
  });

  it("budget: spend counts per UTC day; at the budget 429 daily_budget_exceeded until midnight", async () => {
    const c = await make();
    const p = caller();
    const lim = limits({ budgetUsdPerDay: 1, maxConcurrent: 10 });
    const now = at("2026-12-04T23:00:00Z");
    const first = await c.admit({ principal: p, limits: lim, leaseId: "a", leaseMs: 1_000, now });
    expect(first.spentUsdToday).toBe(0);
    await c.recordSpend(p, 0.75, now);
    await c.recordSpend(p, 0.25, now);
    await c.recordSpend(p, 0, now);
    const err = await c
      .admit({ principal: p, limits: lim, leaseId: "b", leaseMs: 1_000, now })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DailyBudgetExceededError);
    expect(err).toMatchObject({ status: 429, code: "daily_budget_exceeded", retryAfterSeconds: 3_600 });
    expect((await c.usage(p, now)).spentUsdToday).toBeCloseTo(1);
    // A new UTC day starts from zero.
    await c.admit({
      principal: p,
      limits: lim,
      leaseId: "b",
      leaseMs: 1_000,
      now: at("2026-12-05T00:00:01Z"),
    });
  });

  it("active: callers with spend today or work in flight", async () => {
    const c = await make();
    const [spender, runner, idle] = [caller(), caller(), caller()];
    const now = at("2026-12-04T12:00:00Z");
    await c.recordSpend(spender, 0.1, now);
    await c.admit({ principal: runner, limits: limits(), leaseId: "a", leaseMs: 60_000, now });
    const active = await c.active(now);
    expect(active).toEqual(expect.arrayContaining([spender, runner]));
    expect(active).not.toContain(idle);
  });
});

describe("policy counters in NATS KV across replicas", () => {
  it("two replicas enforce one in-flight limit: concurrent admissions never exceed it", async () => {
    const [r1, r2] = [await natsReplica(), await natsReplica()];
    const p = caller();
    const now = at("2026-12-04T10:00:00Z");
    const lim = limits({ maxConcurrent: 3, requestsPerMinute: 1_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? r1 : r2).admit({ principal: p, limits: lim, leaseId: `l${i}`, leaseMs: 60_000, now }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(refused.every((r) => r.reason instanceof TooManyInFlightError)).toBe(true);
    expect((await r2.usage(p, now)).inFlight).toBe(3);
  });

  it("a burst of 500 admissions of one caller on one replica: exactly the limit admitted, the rest refused as over it, one write each (no write races)", async () => {
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    const buckets = await ensureCounterBuckets(jetstream(nc));
    let writes = 0;
    const counted = new Proxy(buckets.inFlight, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if ((prop === "update" || prop === "create") && typeof value === "function")
          return (...args: unknown[]) => {
            writes++;
            return value.apply(target, args);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const replica = natsPolicyCounters({ ...buckets, inFlight: counted });
    const p = caller();
    const now = at("2026-12-04T10:00:00Z");
    const lim = limits({ maxConcurrent: 40, requestsPerMinute: 10_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) =>
        replica.admit({ principal: p, limits: lim, leaseId: `l${i}`, leaseMs: 60_000, now }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(40);
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(
      refused.filter((r) => !(r.reason instanceof TooManyInFlightError)).map((r) => String(r.reason)),
    ).toEqual([]);
    // One write per lease taken: the caller's admissions took turns instead of retrying each other out.
    expect(writes).toBe(40);
    expect((await replica.usage(p, now)).inFlight).toBe(40);
  });

  it("spend recorded on one replica stops the caller on the other", async () => {
    const [r1, r2] = [await natsReplica(), await natsReplica()];
    const p = caller();
    const now = at("2026-12-04T10:00:00Z");
    const lim = limits({ budgetUsdPerDay: 0.5 });
    await r1.admit({ principal: p, limits: lim, leaseId: "turn-1", leaseMs: 60_000, now });
    await r1.recordSpend(p, 0.6, now);
    await r1.release(p, "turn-1");
    await expect(
      r2.admit({ principal: p, limits: lim, leaseId: "turn-2", leaseMs: 60_000, now }),
    ).rejects.toBeInstanceOf(DailyBudgetExceededError);
  });
});
