import type { PayloadRef } from "@claude-gateway/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import { type ObjectStore, Objm } from "@nats-io/obj";

/** Text too large for a message, by name: the job payload store's shape for the services. */
export interface Payloads {
  /** Stores `text` under `object` (replacing what was there) and returns its reference. */
  put(object: string, text: string): Promise<PayloadRef>;
  /**
   * The text a reference names. Throws `PayloadMissingError` if it is not stored (expired, or
   * never written), and the transfer's error if it fails or its digest does not match.
   */
  get(ref: PayloadRef): Promise<string>;
}

export class PayloadMissingError extends Error {
  override readonly name = "PayloadMissingError";
  constructor(readonly object: string) {
    super(`the payload '${object}' is not stored (expired or never written)`);
  }
}

/** Payloads in a NATS object store (chunked, SHA-256 checked on read by the client). */
export function natsPayloads(store: ObjectStore): Payloads {
  return {
    async put(object, text) {
      const data = new TextEncoder().encode(text);
      await store.putBlob({ name: object }, data);
      return { object, bytes: data.byteLength };
    },
    async get(ref) {
      const data = await store.getBlob(ref.object);
      if (data === null) throw new PayloadMissingError(ref.object);
      if (data.byteLength !== ref.bytes) {
        throw new Error(
          `the payload '${ref.object}' holds ${data.byteLength} bytes, its reference says ${ref.bytes}`,
        );
      }
      return new TextDecoder().decode(data);
    },
  };
}

/**
 * A payload store another service owns (creates and sizes): opened at first use, so this service
 * starts before it, and opened again after a failure.
 */
export function openedPayloads(js: JetStreamClient, bucket: string): Payloads {
  let opened: Promise<Payloads> | undefined;
  const store = () => {
    opened ??= new Objm(js).open(bucket).then(natsPayloads, (err: unknown) => {
      opened = undefined;
      throw err;
    });
    return opened;
  };
  return {
    put: async (object, text) => (await store()).put(object, text),
    get: async (ref) => (await store()).get(ref),
  };
}
