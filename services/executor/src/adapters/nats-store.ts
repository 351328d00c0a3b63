import { JobRecord } from "@claude-gateway/contracts";
import { kvGetJson, kvUpdateJson } from "@claude-gateway/nats";
import type { KV } from "@nats-io/kv";
import type { JobStore } from "../ports.js";

/** Job records in a NATS KV bucket (its TTL is JOB_TTL_SECONDS); writes are compare-and-set. */
export function natsJobStore(kv: KV): JobStore {
  return {
    async get(id) {
      return (await kvGetJson(kv, id, JobRecord))?.value ?? null;
    },
    async create(record) {
      try {
        await kv.create(record.id, new TextEncoder().encode(JSON.stringify(JobRecord.parse(record))));
        return { created: true, record };
      } catch (err) {
        const existing = await kvGetJson(kv, record.id, JobRecord);
        if (existing) return { created: false, record: existing.value };
        throw err;
      }
    },
    async update(id, fn) {
      const entry = await kvUpdateJson(kv, id, JobRecord, (current) => {
        if (!current) throw new Error(`job ${id} has no record`);
        return fn(current);
      });
      return entry.value;
    },
    async delete(id) {
      await kv.delete(id);
    },
  };
}
