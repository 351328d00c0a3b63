import { isRevisionConflict } from "@claude-gateway/nats";
import type { KV } from "@nats-io/kv";
import { StoreUnavailableError } from "../errors.js";
import type { LockKv } from "../lock.js";

/** The lock's KV operations on a NATS KV bucket; a revision conflict is an answer, anything else a 503. */
export function natsLockKv(kv: KV): LockKv {
  return {
    create: (key, value) => orConflict(key, () => kv.create(key, value), null),
    async get(key) {
      const entry = await guard(key, () => kv.get(key));
      if (entry === null || entry.operation !== "PUT") return null;
      return { value: entry.value, revision: entry.revision };
    },
    update: (key, value, revision) => orConflict(key, () => kv.update(key, value, revision), null),
    delete: (key, revision) =>
      orConflict(key, () => kv.delete(key, { previousSeq: revision }).then(() => true), false),
  };
}

async function orConflict<T, C>(key: string, fn: () => Promise<T>, onConflict: C): Promise<T | C> {
  try {
    return await fn();
  } catch (err) {
    if (isRevisionConflict(err)) return onConflict;
    throw unavailable(key, err);
  }
}

async function guard<T>(key: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(key, err);
  }
}

function unavailable(key: string, err: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`conversation lock ${key}: ${(err as Error).message}`, { cause: err });
}

/** The server refused a write because the key's revision moved on. */
