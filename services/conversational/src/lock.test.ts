import { describe, expect, it } from "vitest";
import { inProcessLock, kvLock, LockLostError, lockKey } from "./lock.js";
import type { ConversationLock } from "./ports.js";
import { memoryLockKv } from "./test-support/memory.js";

/** A clock the test moves, and waits that resolve at once (after letting other work run). */
function manualTime(start = Date.parse("2026-01-01T00:00:00Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
    wait: async (_ms: number, signal?: AbortSignal) => {
      await new Promise((r) => setImmediate(r));
      signal?.throwIfAborted();
    },
  };
}

/** Resolves `true` if the promise settles within a few event-loop turns. */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return settled;
}

const abortedPromise = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
  );
async function eventuallyAborted(signal: AbortSignal) {
  expect(await settlesSoon(abortedPromise(signal))).toBe(true);
}

/** Two replicas' locks on one KV and one clock: A holds conversation c1, B waits for it. */
async function aHoldsBWaits() {
  const kv = memoryLockKv();
  const time = manualTime();
  const a = kvLock(kv, { owner: "a", staleAfterMs: 90_000, ...time });
  const b = kvLock(kv, { owner: "b", staleAfterMs: 90_000, ...time });
  const releaseA = await a.acquire("c1");
  const bWaits = b.acquire("c1");
  return { kv, time, a, b, releaseA, bWaits };
}

describe("kvLock (two replicas on one KV)", () => {
  it("excludes: B waits while A holds the conversation, and gets it once A releases", async () => {
    const { kv, b, releaseA, bWaits } = await aHoldsBWaits();
    expect(await settlesSoon(bWaits)).toBe(false);
    // Other conversations are not blocked.
    const other = await b.acquire("c2");
    await other();
    await releaseA();
    const releaseB = await bWaits;
    expect(JSON.parse(new TextDecoder().decode(kv.entries.get(lockKey("c1"))!.value)).owner).toBe("b");
    await releaseB();
    expect(kv.entries.has(lockKey("c1"))).toBe(false);
  });

  it("a live holder renews its lock: however long its turn, B never takes it over", async () => {
    const { kv, time, releaseA, bWaits } = await aHoldsBWaits();
    for (let i = 0; i < 10; i++) {
      time.advance(60_000);
      expect(await settlesSoon(bWaits)).toBe(false);
    }
    const value = JSON.parse(new TextDecoder().decode(kv.entries.get(lockKey("c1"))!.value));
    expect(value).toMatchObject({ owner: "a", acquiredAt: "2026-01-01T00:00:00.000Z" });
    expect(Date.parse(value.renewedAt)).toBeGreaterThan(Date.parse(value.acquiredAt));
    expect(releaseA.lost?.aborted).toBe(false);
    await releaseA();
    await (await bWaits)();
  });

  it("a lock its holder stopped renewing (a dead replica's) is taken over once stale; nothing of it is freed twice", async () => {
    const kv = memoryLockKv();
    const time = manualTime();
    const at = time.now().toISOString();
    const dead = { owner: "dead", token: "t", acquiredAt: at, renewedAt: at };
    await kv.create(lockKey("c1"), new TextEncoder().encode(JSON.stringify(dead)));
    const b = kvLock(kv, { owner: "b", staleAfterMs: 10_000, ...time });
    const bWaits = b.acquire("c1");
    time.advance(9_000);
    expect(await settlesSoon(bWaits)).toBe(false);
    time.advance(2_000);
    const releaseB = await bWaits;
    expect(JSON.parse(new TextDecoder().decode(kv.entries.get(lockKey("c1"))!.value)).owner).toBe("b");
    await releaseB();
    expect(kv.entries.has(lockKey("c1"))).toBe(false);
  });

  it("a lock written before locks were leases (no renewedAt) goes stale by its age", async () => {
    const kv = memoryLockKv();
    const time = manualTime();
    const old = { owner: "old", token: "t", acquiredAt: time.now().toISOString() };
    await kv.create(lockKey("c1"), new TextEncoder().encode(JSON.stringify(old)));
    const bWaits = kvLock(kv, { owner: "b", staleAfterMs: 10_000, ...time }).acquire("c1");
    expect(await settlesSoon(bWaits)).toBe(false);
    time.advance(10_001);
    await (await bWaits)();
  });

  it("a holder whose lock was taken over learns it (lost aborts) and its release frees nothing", async () => {
    const kv = memoryLockKv();
    const time = manualTime();
    const releaseA = await kvLock(kv, { owner: "a", staleAfterMs: 10_000, ...time }).acquire("c1");
    // B took it over while A was cut off: the key moved on under A.
    const current = kv.entries.get(lockKey("c1"))!;
    const theirs = { owner: "b", token: "t", acquiredAt: time.now().toISOString() };
    await kv.update(lockKey("c1"), new TextEncoder().encode(JSON.stringify(theirs)), current.revision);
    await eventuallyAborted(releaseA.lost!);
    expect(releaseA.lost!.reason).toBeInstanceOf(LockLostError);
    await releaseA();
    expect(JSON.parse(new TextDecoder().decode(kv.entries.get(lockKey("c1"))!.value)).owner).toBe("b");
  });

  it("a holder that cannot reach the store for longer than the lease counts its lock as lost", async () => {
    const inner = memoryLockKv();
    let down = false;
    const kv: typeof inner = {
      ...inner,
      update: (...args) => (down ? Promise.reject(new Error("kv down")) : inner.update(...args)),
    };
    const time = manualTime();
    const releaseA = await kvLock(kv, { owner: "a", staleAfterMs: 10_000, ...time }).acquire("c1");
    down = true;
    time.advance(5_000);
    expect(await settlesSoon(abortedPromise(releaseA.lost!))).toBe(false);
    time.advance(6_000);
    await eventuallyAborted(releaseA.lost!);
    await releaseA();
  });

  it("an unreadable lock value counts as stale", async () => {
    const kv = memoryLockKv();
    await kv.create(lockKey("c1"), new TextEncoder().encode("garbage"));
    const release = await kvLock(kv, { owner: "a", staleAfterMs: 90_000, ...manualTime() }).acquire("c1");
    await release();
    expect(kv.entries.size).toBe(0);
  });

  it("release is idempotent", async () => {
    const kv = memoryLockKv();
    const release = await kvLock(kv, { owner: "a", staleAfterMs: 1000, ...manualTime() }).acquire("c1");
    await Promise.all([release(), release()]);
    await release();
    expect(kv.entries.size).toBe(0);
  });

  it("a waiter stops waiting when its signal aborts, with the signal's reason", async () => {
    const kv = memoryLockKv();
    const time = manualTime();
    await kvLock(kv, { owner: "a", staleAfterMs: 90_000, ...time }).acquire("c1");
    const controller = new AbortController();
    const waiting = kvLock(kv, { owner: "b", staleAfterMs: 90_000, ...time }).acquire(
      "c1",
      controller.signal,
    );
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("the real wait (no injected one) also rejects with the signal's reason", async () => {
    const kv = memoryLockKv();
    await kvLock(kv, { owner: "a", staleAfterMs: 90_000 }).acquire("c1");
    const controller = new AbortController();
    const waiting = kvLock(kv, { owner: "b", staleAfterMs: 90_000, pollMs: 10_000 }).acquire(
      "c1",
      controller.signal,
    );
    await new Promise((r) => setImmediate(r));
    const reason = new Error("bye");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});

describe("inProcessLock", () => {
  it("runs the turns of one conversation in arrival order, one at a time", async () => {
    const lock = inProcessLock();
    const order: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const turn = async (name: string) => {
      const release = await lock.acquire("c1");
      inside++;
      maxInside = Math.max(maxInside, inside);
      order.push(`start ${name}`);
      await new Promise((r) => setImmediate(r));
      order.push(`end ${name}`);
      inside--;
      await release();
    };
    await Promise.all(["1", "2", "3"].map(turn));
    expect(order).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(maxInside).toBe(1);
  });

  it("takes the inner (cross-replica) lock only when its turn comes, and releases it first", async () => {
    const events: string[] = [];
    const inner: ConversationLock = {
      acquire: async (id) => {
        events.push(`inner acquire ${id}`);
        return async () => {
          events.push(`inner release ${id}`);
        };
      },
    };
    const lock = inProcessLock(inner);
    const r1 = await lock.acquire("c1");
    const second = lock.acquire("c1");
    expect(await settlesSoon(second)).toBe(false);
    expect(events).toEqual(["inner acquire c1"]);
    await r1();
    const r2 = await second;
    expect(events).toEqual(["inner acquire c1", "inner release c1", "inner acquire c1"]);
    await r2();
  });

  it("passes the inner lock's lost signal on", async () => {
    const lostController = new AbortController();
    const lock = inProcessLock({
      acquire: async () => Object.assign(async () => {}, { lost: lostController.signal }),
    });
    const release = await lock.acquire("c1");
    expect(release.lost).toBe(lostController.signal);
    await release();
  });

  it("an aborted waiter leaves the queue without blocking the ones behind it", async () => {
    const lock = inProcessLock();
    const r1 = await lock.acquire("c1");
    const controller = new AbortController();
    const aborted = lock.acquire("c1", controller.signal);
    const third = lock.acquire("c1");
    controller.abort(new Error("gone"));
    await expect(aborted).rejects.toThrow("gone");
    await r1();
    await (await third)();
  });

  it("a failing inner lock lets the next turn in", async () => {
    let fail = true;
    const lock = inProcessLock({
      acquire: async () => {
        if (fail) {
          fail = false;
          throw new Error("kv down");
        }
        return async () => {};
      },
    });
    await expect(lock.acquire("c1")).rejects.toThrow("kv down");
    await (await lock.acquire("c1"))();
  });
});
