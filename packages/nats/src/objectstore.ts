import type { JetStreamClient } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { JetStreamSetupError } from "./errors.js";
import { reconcileStream } from "./stream.js";

export interface EnsureObjectStoreOptions {
  /** Objects older than this are dropped. 0 or unset: kept forever. */
  ttlMs?: number;
  /** Upper bound on the store's total size. */
  maxBytes?: number;
  description?: string;
}

/** Opens the object store, creating it if needed and updating TTL/size limits that differ. */
export async function ensureObjectStore(
  js: JetStreamClient,
  bucket: string,
  opts: EnsureObjectStoreOptions = {},
): Promise<ObjectStore> {
  const limits = {
    ...(opts.ttlMs !== undefined && { max_age: nanos(opts.ttlMs) }),
    ...(opts.maxBytes !== undefined && { max_bytes: opts.maxBytes }),
    ...(opts.description !== undefined && { description: opts.description }),
  };
  try {
    const store = await new Objm(js).create(bucket, {
      ...(opts.ttlMs !== undefined && { ttl: nanos(opts.ttlMs) }),
      ...(opts.maxBytes !== undefined && { max_bytes: opts.maxBytes }),
      ...(opts.description !== undefined && { description: opts.description }),
    });
    await reconcileStream(await js.jetstreamManager(), { name: objectStoreStreamName(bucket), ...limits });
    return store;
  } catch (err) {
    throw new JetStreamSetupError("objectstore", bucket, { cause: err });
  }
}

export function objectStoreStreamName(bucket: string): string {
  return `OBJ_${bucket}`;
}
