import { describe, expect, it, vi } from "vitest";
import { type LeaseKv, leaseHolds, replicaKey, replicaLeases } from "./replica-lease.js";

function memoryLeaseKv() {
  const entries = new Map<string, Uint8Array>();
  let down = false;
  const kv: LeaseKv & { entries: typeof entries; setDown(v: boolean): void } = {
    entries,
    setDown: (v) => {
      down = v;
    },
    put: async (key, value) => {
      if (down) throw new Error("kv down");
      entries.set(key, value);
    },
    get: async (key) => {
      if (down) throw new Error("kv down");
      return entries.get(key) ?? null;
    },
    delete: async (key) => {
      entries.delete(key);
    },
  };
  return kv;
}

describe("leaseHolds", () => {
  const at = "2026-12-04T10:00:00.000Z";
  it("holds up to the lease, inclusive, and not a millisecond after", () => {
    expect(leaseHolds(at, new Date("2026-12-04T10:00:10.000Z"), 10_000)).toBe(true);
    expect(leaseHolds(at, new Date("2026-12-04T10:00:10.001Z"), 10_000)).toBe(false);
  });
});

describe("replicaLeases", () => {
  it("a started replica is alive for the others; unknown, stale or stopped ones are not", async () => {
    const kv = memoryLeaseKv();
    let now = Date.parse("2026-12-04T10:00:00Z");
    const clock = () => new Date(now);
    const a = replicaLeases(kv, { replicaId: "a", leaseMs: 10_000, now: clock });
    const b = replicaLeases(kv, { replicaId: "b", leaseMs: 10_000, now: clock });
    await a.start();
    expect(kv.entries.has(replicaKey("a"))).toBe(true);
    expect(await b.alive("a")).toBe(true);
    expect(await b.alive("nobody")).toBe(false);
    // A stopped clock of renewals (a killed or frozen replica): stale after the lease.
    now += 10_001;
    expect(await b.alive("a")).toBe(false);
    await a.stop();
    expect(kv.entries.has(replicaKey("a"))).toBe(false);
    expect(await b.alive("a")).toBe(false);
  });

  it("renews the lease every third of it", async () => {
    const kv = memoryLeaseKv();
    const a = replicaLeases(kv, { replicaId: "a", leaseMs: 30 });
    await a.start();
    const first = new TextDecoder().decode(kv.entries.get(replicaKey("a")));
    await vi.waitFor(() => expect(new TextDecoder().decode(kv.entries.get(replicaKey("a")))).not.toBe(first));
    expect(await replicaLeases(kv, { replicaId: "b", leaseMs: 30 }).alive("a")).toBe(true);
    await a.stop();
  });

  it("a garbled lease is not alive; a store that cannot answer says alive (the caller's timeouts decide)", async () => {
    const kv = memoryLeaseKv();
    const b = replicaLeases(kv, { replicaId: "b", leaseMs: 10_000 });
    kv.entries.set(replicaKey("x"), new TextEncoder().encode("garbage"));
    expect(await b.alive("x")).toBe(false);
    kv.setDown(true);
    expect(await b.alive("x")).toBe(true);
  });
});
