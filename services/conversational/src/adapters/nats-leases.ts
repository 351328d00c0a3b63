import type { KV } from "@nats-io/kv";
import type { LeaseKv } from "../replica-lease.js";

/** A replica lease's KV operations on a NATS KV bucket. */
export function natsLeaseKv(kv: KV): LeaseKv {
  return {
    put: async (key, value) => {
      await kv.put(key, value);
    },
    async get(key) {
      const entry = await kv.get(key);
      return entry === null || entry.operation !== "PUT" ? null : entry.value;
    },
    delete: (key) => kv.delete(key),
  };
}
