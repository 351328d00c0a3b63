import { buckets } from "@claude-gateway/contracts";
import { ensureKv } from "@claude-gateway/nats";
import { type NatsServer, startNatsServer } from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { natsLockKv } from "../src/adapters/nats-lock.js";
import { StoreUnavailableError } from "../src/errors.js";
import { inProcessLock, kvLock, lockKey } from "../src/lock.js";

// Two replicas = two connections, two KV handles, two lock instances on one real nats-server.
let nats: NatsServer;
let ncA: NatsConnection;
let ncB: NatsConnection;
let kvA: KV;
let kvB: KV;

beforeAll(async () => {
  nats = await startNatsServer();
  ncA = await connect({ servers: nats.url });
  ncB = await connect({ servers: nats.url });
  kvA = await ensureKv(jetstream(ncA), buckets.conversations, { ttlMs: 60_000, history: 1 });
  kvB = await ensureKv(jetstream(ncB), buckets.conversations, { ttlMs: 60_000, history: 1 });
});
afterAll(async () => {
  await ncA?.close();
  await ncB?.close();
  await nats?.stop();
});

const holder = async (kv: KV, id: string) => {
  const entry = await kv.get(lockKey(id));
  return entry?.operation === "PUT" ? entry.json<{ owner: string }>().owner : undefined;
};
/** "waiting" if the promise is still pending after `ms` (it must be: the other replica holds the lock). */
const stillWaiting = (p: Promise<unknown>, ms = 300) =>
  Promise.race([p.then(() => "acquired"), new Promise((r) => setTimeout(() => r("waiting"), ms))]);

describe("the conversation lock on NATS KV, two replicas", () => {
  it("excludes: B waits while A holds a conversation and gets it when A releases; other ids are free", async () => {
    const a = kvLock(natsLockKv(kvA), { owner: "a", staleAfterMs: 60_000, pollMs: 20 });
    const b = kvLock(natsLockKv(kvB), { owner: "b", staleAfterMs: 60_000, pollMs: 20 });
    const releaseA = await a.acquire("conv-x");
    expect(await holder(kvB, "conv-x")).toBe("a");
    const bWaits = b.acquire("conv-x");
    expect(await stillWaiting(bWaits)).toBe("waiting");
    await (await b.acquire("conv-y"))();
    await releaseA();
    const releaseB = await bWaits;
    expect(await holder(kvA, "conv-x")).toBe("b");
    await releaseB();
    expect(await kvA.get(lockKey("conv-x")).then((e) => e?.operation)).toBe("DEL");
    // A released key (a tombstone) can be taken again.
    await (await a.acquire("conv-x"))();
  });

  it("under contention (three turns per replica at once) the critical sections never overlap", async () => {
    const replicas = [kvA, kvB].map((kv, i) =>
      inProcessLock(kvLock(natsLockKv(kv), { owner: `r${i}`, staleAfterMs: 60_000, pollMs: 10 })),
    );
    let inside = 0;
    let maxInside = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const release = await replicas[i % 2]!.acquire("conv-busy");
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
        done++;
        await release();
      }),
    );
    expect(done).toBe(6);
    expect(maxInside).toBe(1);
  });

  it("a live holder's lease outlasts its staleness; cut off from NATS, it loses the lock to B, learns so, and frees nothing of B's", async () => {
    const ncCut = await connect({ servers: nats.url });
    const kvCut = await ensureKv(jetstream(ncCut), buckets.conversations, { ttlMs: 60_000, history: 1 });
    const a = kvLock(natsLockKv(kvCut), { owner: "a", staleAfterMs: 1_000, pollMs: 20 });
    const b = kvLock(natsLockKv(kvB), { owner: "b", staleAfterMs: 1_000, pollMs: 20 });
    const releaseA = await a.acquire("conv-stale");
    const bWaits = b.acquire("conv-stale");
    // Three times the staleness: A renews, so B keeps waiting.
    expect(await stillWaiting(bWaits, 3_000)).toBe("waiting");
    expect(releaseA.lost?.aborted).toBe(false);
    // A is cut off (its renewals fail): B takes over once A's lock is stale…
    await ncCut.close();
    const releaseB = await bWaits;
    expect(await holder(kvA, "conv-stale")).toBe("b");
    // …and A learns it lost it (a turn under it stops and writes nothing).
    await vi.waitFor(() => expect(releaseA.lost?.aborted).toBe(true), { timeout: 5_000 });
    await releaseA();
    expect(await holder(kvA, "conv-stale")).toBe("b");
    await releaseB();
    expect(await holder(kvA, "conv-stale")).toBeUndefined();
  });

  it("NATS unreachable ⇒ StoreUnavailableError (a 503), not a hang", async () => {
    const nc = await connect({ servers: nats.url });
    const kv = await ensureKv(jetstream(nc), buckets.conversations, { ttlMs: 60_000, history: 1 });
    await nc.close();
    const lock = kvLock(natsLockKv(kv), { owner: "c", staleAfterMs: 60_000 });
    await expect(lock.acquire("conv-z")).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
