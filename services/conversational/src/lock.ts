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

const LockValue = z.object({ owner: z.string(), token: z.string(), acquiredAt: z.iso.datetime() });
type LockValue = z.infer<typeof LockValue>;

export interface KvLockOptions {
  /** Who holds it, for logs (the replica id). */
  owner: string;
  /**
   * A lock older than this is taken over: its holder died mid-turn. Use the turn timeout plus a
   * grace for restoring and saving, so a live holder is never overtaken.
   */
  staleAfterMs: number;
  /** How often a waiting turn looks again. */
  pollMs?: number;
  now?: () => Date;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger?: Logger;
}

export const lockKey = (conversationId: string) => `lock.${conversationId}`;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A lock key per conversation: taken by create-if-absent, released by a revision-checked delete
 * (so a holder that was overtaken never frees its successor's lock), and taken over with a
 * revision-checked update once older than `staleAfterMs`. Waiters poll.
 */
export function kvLock(kv: LockKv, opts: KvLockOptions): ConversationLock {
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 50;
  const wait = opts.wait ?? defaultWait;
  const log = opts.logger ?? silentLogger;

  return {
    async acquire(conversationId, signal) {
      const key = lockKey(conversationId);
      for (;;) {
        signal?.throwIfAborted();
        const mine: LockValue = { owner: opts.owner, token: randomUUID(), acquiredAt: now().toISOString() };
        const data = encoder.encode(JSON.stringify(mine));
        const created = await kv.create(key, data);
        if (created !== null) return releaser(kv, key, created, log);

        const held = await kv.get(key);
        if (held === null) continue; // released between our create and get: try again at once
        const holder = parseLock(held.value);
        const age = holder ? now().getTime() - Date.parse(holder.acquiredAt) : Number.POSITIVE_INFINITY;
        if (age > opts.staleAfterMs) {
          const taken = await kv.update(key, data, held.revision);
          if (taken !== null) {
            log.warn(
              { conversationId, previousOwner: holder?.owner, ageMs: age },
              "took over a stale conversation lock",
            );
            return releaser(kv, key, taken, log);
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

function releaser(kv: LockKv, key: string, revision: number, log: Logger): Release {
  let released: Promise<void> | undefined;
  return () => {
    released ??= kv.delete(key, revision).then((deleted) => {
      if (!deleted) log.warn({ key }, "conversation lock was taken over before release");
    });
    return released;
  };
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
      return () => {
        released ??= (async () => {
          try {
            await release?.();
          } finally {
            leave();
          }
        })();
        return released;
      };
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
