import { PLAN_KEY, type PlanReading, type PlanState } from "@claude-gateway/contracts";
import type { KV } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { natsPlanStore, nextPlan } from "./plan.js";
import { memoryPlanStore } from "./testing.js";

const NOW_S = 1_800_000_000;
const at = (offsetS = 0) => new Date((NOW_S + offsetS) * 1000);

const allowed = (utilization: number): PlanReading => ({
  status: "allowed",
  window: "five_hour",
  resetsAt: NOW_S + 3600,
  usingOverage: false,
  windows: [{ window: "five_hour", utilization, resetsAt: NOW_S + 3600, status: "allowed" }],
});
const rejected: PlanReading = {
  status: "rejected",
  window: "five_hour",
  resetsAt: NOW_S + 3600,
  usingOverage: false,
  windows: [{ window: "five_hour", utilization: 1, resetsAt: NOW_S + 3600, status: "rejected" }],
};

describe("nextPlan", () => {
  it("a first report is written", () => {
    expect(nextPlan(undefined, allowed(0.1), at())).toMatchObject({
      status: "allowed",
      windows: { five_hour: { utilization: 0.1 } },
      observedAt: at().toISOString(),
    });
  });

  it("a report that says what is known is not written again", () => {
    const known = nextPlan(undefined, allowed(0.1), at());
    expect(nextPlan(known, allowed(0.1), at(60))).toBeUndefined();
    expect(nextPlan(known, allowed(0.2), at(60))).toMatchObject({
      windows: { five_hour: { utilization: 0.2 } },
    });
  });

  it("a report older than what is known is dropped: the newest observation wins", () => {
    const known = nextPlan(undefined, rejected, at(60));
    expect(nextPlan(known, allowed(0.5), at(30))).toBeUndefined();
    expect(nextPlan(known, allowed(0.5), at(90))).toMatchObject({ status: "allowed" });
  });
});

describe.each([
  ["in memory", () => memoryPlanStore()],
  ["in NATS KV (a fake bucket)", () => natsPlanStore(fakeKv().kv, { cacheMs: 0 })],
])("plan store %s", (_name, make) => {
  it("knows nothing until a report, then the folded state", async () => {
    const store = make();
    expect(await store.current()).toBeUndefined();
    await store.record(allowed(0.3), at());
    await store.record(rejected, at(10));
    expect(await store.current()).toMatchObject({
      status: "rejected",
      resetsAt: NOW_S + 3600,
      windows: { five_hour: { utilization: 1, status: "rejected" } },
      observedAt: at(10).toISOString(),
    });
  });

  it("keeps the newer state when an older report arrives late", async () => {
    const store = make();
    await store.record(rejected, at(10));
    await store.record(allowed(0.3), at(5));
    expect((await store.current())?.status).toBe("rejected");
  });
});

describe("memoryPlanStore", () => {
  it("writes only what changed", async () => {
    const store = memoryPlanStore();
    await store.record(allowed(0.1), at());
    await store.record(allowed(0.1), at(1));
    await store.record(allowed(0.2), at(2));
    expect(store.writes).toBe(2);
  });
});

describe("natsPlanStore", () => {
  it("writes only what changed, with the revision it read", async () => {
    const fake = fakeKv();
    const store = natsPlanStore(fake.kv);
    await store.record(allowed(0.1), at());
    await store.record(allowed(0.1), at(1));
    await store.record(allowed(0.2), at(2));
    expect(fake.writes).toEqual(["create", "update@1"]);
  });

  it("serves reads from its cache for cacheMs, one read shared by concurrent callers", async () => {
    const fake = fakeKv();
    let now = 0;
    const store = natsPlanStore(fake.kv, { cacheMs: 1_000, nowMs: () => now });
    const [a, b] = await Promise.all([store.current(), store.current()]);
    expect(a).toBeUndefined();
    expect(b).toBeUndefined();
    expect(fake.reads).toBe(1);
    // Another replica writes; this one sees it once its cache is a second old.
    fake.put(nextPlan(undefined, rejected, at()) as PlanState);
    now = 999;
    expect(await store.current()).toBeUndefined();
    now = 1_000;
    expect((await store.current())?.status).toBe("rejected");
    expect(fake.reads).toBe(2);
  });

  it("sees its own write at once", async () => {
    const fake = fakeKv();
    const store = natsPlanStore(fake.kv, { cacheMs: 60_000, nowMs: () => 0 });
    expect(await store.current()).toBeUndefined();
    await store.record(rejected, at());
    const reads = fake.reads;
    expect((await store.current())?.status).toBe("rejected");
    expect(fake.reads).toBe(reads);
  });

  it("a read that fails (no bucket yet, the store away) keeps what was known and tries again", async () => {
    const fake = fakeKv();
    let now = 0;
    const store = natsPlanStore(fake.kv, { cacheMs: 1_000, nowMs: () => now });
    fake.put(nextPlan(undefined, rejected, at()) as PlanState);
    expect((await store.current())?.status).toBe("rejected");
    fake.failReads = true;
    now = 5_000;
    expect((await store.current())?.status).toBe("rejected");
    fake.failReads = false;
    fake.put(nextPlan(undefined, allowed(0.1), at(1)) as PlanState);
    expect((await store.current())?.status).toBe("allowed");
  });

  it("a bucket that does not exist yet reads as no state", async () => {
    const fake = fakeKv();
    fake.failReads = true;
    expect(await natsPlanStore(fake.kv).current()).toBeUndefined();
  });
});

/** The few KV calls the store makes, on one key, with revisions as the server keeps them. */
function fakeKv() {
  let entry: { value: Uint8Array; revision: number } | undefined;
  const state = { reads: 0, writes: [] as string[], failReads: false };
  const encode = (s: PlanState) => new TextEncoder().encode(JSON.stringify(s));
  const kv = {
    async get(key: string) {
      expect(key).toBe(PLAN_KEY);
      state.reads++;
      if (state.failReads) throw Object.assign(new Error("stream not found"), { name: "JetStreamApiError" });
      return entry ? { ...entry, operation: "PUT" } : null;
    },
    async create(_key: string, value: Uint8Array) {
      if (entry) throw new Error("exists");
      state.writes.push("create");
      entry = { value, revision: 1 };
      return 1;
    },
    async update(_key: string, value: Uint8Array, revision: number) {
      if (entry?.revision !== revision) throw new Error("wrong revision");
      state.writes.push(`update@${revision}`);
      entry = { value, revision: revision + 1 };
      return entry.revision;
    },
  };
  return Object.assign(state, {
    kv: kv as unknown as KV,
    put(s: PlanState) {
      entry = { value: encode(s), revision: (entry?.revision ?? 0) + 1 };
    },
  });
}
