import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { nanos } from "@nats-io/nats-core";
import type { z } from "zod";
import { check, decodeJson, encodeJson, issuesOf } from "./codec.js";
import { InvalidKvValueError, JetStreamSetupError, KvUpdateConflictError } from "./errors.js";
import { reconcileStream } from "./stream.js";

export interface EnsureKvOptions {
  /** Entries older than this are dropped (the stream's max_age). 0 or unset: kept forever. */
  ttlMs?: number;
  /** Revisions kept per key (1–64). */
  history?: number;
}

/**
 * Opens the bucket, creating it if needed; an existing bucket whose TTL or history differ from
 * what is asked is updated (the client's own create would silently keep the old settings).
 */
export async function ensureKv(js: JetStreamClient, bucket: string, opts: EnsureKvOptions = {}): Promise<KV> {
  try {
    const kv = await new Kvm(js).create(bucket, {
      ...(opts.ttlMs !== undefined && { ttl: opts.ttlMs }),
      ...(opts.history !== undefined && { history: opts.history }),
    });
    await reconcileStream(await js.jetstreamManager(), {
      name: kvStreamName(bucket),
      ...(opts.ttlMs !== undefined && { max_age: nanos(opts.ttlMs) }),
      ...(opts.history !== undefined && { max_msgs_per_subject: opts.history }),
    });
    return kv;
  } catch (err) {
    throw new JetStreamSetupError("kv", bucket, { cause: err });
  }
}

export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

export interface KvJsonEntry<T> {
  value: T;
  revision: number;
}

/** The key's value checked against the schema; `null` if the key is missing or deleted. */
export async function kvGetJson<S extends z.ZodType>(
  kv: KV,
  key: string,
  schema: S,
): Promise<KvJsonEntry<z.output<S>> | null> {
  const entry = await kv.get(key);
  if (entry === null || entry.operation !== "PUT") return null;
  return { value: decodeEntry(kv, key, entry.value, schema), revision: entry.revision };
}

/** Checks the value against the schema, then writes it. Returns the new revision. */
export async function kvPutJson<S extends z.ZodType>(
  kv: KV,
  key: string,
  schema: S,
  value: z.input<S>,
): Promise<number> {
  return kv.put(key, encodeValue(kv, key, schema, value));
}

export interface KvUpdateOptions {
  /** Give up after this many lost races. */
  maxAttempts?: number;
}

/**
 * Read, change, write with optimistic concurrency: the write only lands if nobody wrote the key
 * since it was read; otherwise re-read and call `fn` again. `fn` gets `undefined` for a missing key
 * and may run more than once, so keep it free of side effects.
 */
export async function kvUpdateJson<S extends z.ZodType>(
  kv: KV,
  key: string,
  schema: S,
  fn: (current: z.output<S> | undefined) => z.input<S> | Promise<z.input<S>>,
  opts: KvUpdateOptions = {},
): Promise<KvJsonEntry<z.output<S>>> {
  const maxAttempts = opts.maxAttempts ?? 30;
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    // Writers that lost a race back off a random while (up to 2^n ms, at most 100), so a burst of
    // them on one key spreads out instead of colliding again on every round.
    if (attempt > 1) await sleep(Math.random() * Math.min(100, 2 ** attempt));
    const entry = await kv.get(key);
    const live = entry !== null && entry.operation === "PUT";
    const current = live ? decodeEntry(kv, key, entry.value, schema) : undefined;
    const next = check(await fn(current), schema);
    if (!next.ok) throw new InvalidKvValueError(bucketOf(kv), key, issuesOf(next), next.message);
    const data = encodeJson(next.value);
    try {
      // A deleted key keeps a revision (its tombstone), so only a never-written key needs `create`.
      const revision =
        entry === null ? await kv.create(key, data) : await kv.update(key, data, entry.revision);
      return { value: next.value, revision };
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
      lastConflict = err;
    }
  }
  throw new KvUpdateConflictError(bucketOf(kv), key, maxAttempts, { cause: lastConflict });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server refused a write because the key's revision moved on. */
export function isRevisionConflict(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function decodeEntry<S extends z.ZodType>(kv: KV, key: string, data: Uint8Array, schema: S): z.output<S> {
  const decoded = decodeJson(data, schema);
  if (!decoded.ok) throw new InvalidKvValueError(bucketOf(kv), key, issuesOf(decoded), decoded.message);
  return decoded.value;
}

function encodeValue<S extends z.ZodType>(kv: KV, key: string, schema: S, value: unknown): Uint8Array {
  const checked = check(value, schema);
  if (!checked.ok) throw new InvalidKvValueError(bucketOf(kv), key, issuesOf(checked), checked.message);
  return encodeJson(checked.value);
}

/** `KV` does not expose its bucket name in the type; the implementation has it. */
function bucketOf(kv: KV): string {
  return (kv as { bucket?: string }).bucket ?? "?";
}
