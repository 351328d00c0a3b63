import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, silentLogger } from "@claude-gateway/service-kit";
import { z } from "zod";
import type { ConversationLock, Release } from "./ports.js";

/**
 * The few revision-checked KV operations a cross-replica lock needs (NATS KV in production, a
 * map in unit tests). Conflicts are answers, not errors: `null`/`false` when the key moved on.
 */
export interface LockKv {
  /** Writes only if the key holds no live value; the new revision, or null if it does. */
  create(key: string, value: Uint8Array): Promise<number | null>;
  /** The live value and its revision; null for a missing or deleted key. */
  get(key: string): Promise<{ value: Uint8Array; revision: number } | null>;
  /** Writes only if the key is still at `revision`; the new revision, or null if it moved on. */
  update(key: string, value: Uint8Array, revision: number): Promise<number | null>;
  /** Deletes only if the key is still at `revision`; false if it moved on. */
  delete(key: string, revision: number): Promise<boolean>;
}

const LockValue = z.object({
  owner: z.string(),
  token: z.string(),
  acquiredAt: z.iso.datetime(),
  /** The holder's last renewal; absent in locks written before locks were leases. */
  renewedAt: z.iso.datetime().optional(),
});
type LockValue = z.infer<typeof LockValue>;

export interface KvLockOptions {
  /** Who holds it, for logs (the replica id). */
  owner: string;
  /**
   * The lock is a lease: its holder renews it every third of this while it lives. A lock not
   * renewed for this long belongs to a dead (or cut-off) replica and is taken over.
   */
  staleAfterMs: number;
  /** How often a waiting turn looks again. */
  pollMs?: number;
  /** How often the holder renews; default a third of `staleAfterMs`. */
  renewMs?: number;
  now?: () => Date;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Logger;
}

export const lockKey = (conversationId: string) => `lock.${conversationId}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A lock key per conversation: taken by create-if-absent, released by a revision-checked delete
 * (so a holder that was overtaken never frees its successor's lock). It is a lease: the holder
 * renews it (a revision-checked update) every `renewMs`, and a lock not renewed for
 * `staleAfterMs` is taken over with a revision-checked update — a dead replica's turn holds its
 * conversation for seconds, not for a turn's whole timeout. A holder that finds its lock taken
 * over, or cannot renew it for `staleAfterMs`, learns it through `lost`. Waiters poll.
 */
export function kvLock(kv: LockKv, opts: KvLockOptions): ConversationLock {
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 50;
  const renewMs = opts.renewMs ?? Math.max(1, Math.floor(opts.staleAfterMs / 3));
  const wait = opts.wait ?? defaultWait;
  const log = opts.logger ?? silentLogger;
  const hold = (key: string, value: LockValue, revision: number): Release =>
    holding(kv, key, value, revision, { now, wait, renewMs, staleAfterMs: opts.staleAfterMs, log });

  return {
    async acquire(conversationId, signal) {
      const key = lockKey(conversationId);
      for (;;) {
        signal?.throwIfAborted();
        const at = now().toISOString();
        const mine: LockValue = { owner: opts.owner, token: randomUUID(), acquiredAt: at, renewedAt: at };
        const data = encoder.encode(JSON.stringify(mine));
        const created = await kv.create(key, data);
        if (created !== null) return hold(key, mine, created);

        const held = await kv.get(key);
        if (held === null) continue; // released between our create and get: try again at once
        const holder = parseLock(held.value);
        const age = holder
          ? now().getTime() - Date.parse(holder.renewedAt ?? holder.acquiredAt)
          : Number.POSITIVE_INFINITY;
        if (age > opts.staleAfterMs) {
          const taken = await kv.update(key, data, held.revision);
          if (taken !== null) {
            log.warn(
              { conversationId, previousOwner: holder?.owner, sinceRenewalMs: age },
              "took over a conversation lock its holder stopped renewing",
            );
            return hold(key, mine, taken);
          }
          continue; // someone else took it over first
        }
        await wait(pollMs, signal);
      }
    },
  };
}

/** Sleeps; an abort rejects with the signal's own reason, as `throwIfAborted` does. */
async function defaultWait(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}

/** The lock we hold: renewed until released; `lost` aborts if it was taken over or went stale. */
function holding(
  kv: LockKv,
  key: string,
  value: LockValue,
  firstRevision: number,
  opts: {
    now: () => Date;
    wait: (ms: number, signal?: AbortSignal) => Promise<void>;
    renewMs: number;
    staleAfterMs: number;
    log: Logger;
  },
): Release {
  let revision = firstRevision;
  let renewedAt = opts.now().getTime();
  const stop = new AbortController();
  const lost = new AbortController();
  const loseIt = (why: string) => {
    opts.log.warn({ key, why }, "lost the conversation lock");
    lost.abort(new LockLostError(`${key}: ${why}`));
    stop.abort();
  };
  // Renewing: one revision-checked write per `renewMs`; stops at release or once lost.
  const renewing = (async () => {
    for (;;) {
      try {
        await opts.wait(opts.renewMs, stop.signal);
      } catch {
        return;
      }
      if (stop.signal.aborted) return;
      const at = opts.now();
      try {
        const next = await kv.update(
          key,
          encoder.encode(JSON.stringify({ ...value, renewedAt: at.toISOString() })),
          revision,
        );
        if (next === null) return stop.signal.aborted ? undefined : loseIt("another replica took it over");
        revision = next;
        renewedAt = at.getTime();
      } catch (err) {
        // The store is unreachable: the lock lapses for the others once not renewed for long.
        if (opts.now().getTime() - renewedAt > opts.staleAfterMs)
          return loseIt(`not renewed for ${opts.staleAfterMs} ms (${(err as Error).message})`);
      }
    }
  })();
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      stop.abort();
      await renewing;
      if (lost.signal.aborted) return;
      const deleted = await kv.delete(key, revision);
      if (!deleted) opts.log.warn({ key }, "conversation lock was taken over before release");
    })();
    return released;
  };
  return Object.assign(release, { lost: lost.signal });
}

/** The conversation's lock was taken over (or lapsed) while this replica held it. */
export class LockLostError extends Error {
  override readonly name = "LockLostError";
}

function parseLock(data: Uint8Array): LockValue | undefined {
  try {
    const parsed = LockValue.safeParse(JSON.parse(decoder.decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serializes turns of one conversation inside this process (a promise chain per id), then takes
 * the cross-replica lock, so concurrent local turns queue in arrival order instead of polling KV.
 */
export function inProcessLock(inner?: ConversationLock): ConversationLock {
  const tails = new Map<string, Promise<void>>();
  return {
    async acquire(conversationId, signal) {
      const previous = tails.get(conversationId) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((resolve) => {
        done = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(conversationId, tail);
      const leave = () => {
        done();
        if (tails.get(conversationId) === tail) tails.delete(conversationId);
      };
      try {
        await abortable(previous, signal);
      } catch (err) {
        // Still queued behind `previous`: hand the turn on once it is ours, so the chain never stalls.
        void previous.then(leave);
        throw err;
      }
      let release: Release | undefined;
      try {
        release = inner ? await inner.acquire(conversationId, signal) : undefined;
      } catch (err) {
        leave();
        throw err;
      }
      let released: Promise<void> | undefined;
      const outer = () => {
        released ??= (async () => {
          try {
            await release?.();
          } finally {
            leave();
          }
        })();
        return released;
      };
      return Object.assign(outer, release?.lost ? { lost: release.lost } : {});
    },
  };
}

function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
