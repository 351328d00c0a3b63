import { JobRecord } from "@claude-gateway/contracts";
import { kvGetJson, kvUpdateJson } from "@claude-gateway/nats";
import type { KV } from "@nats-io/kv";
import { z } from "zod";
import type { JobStore } from "../ports.js";

const Marker = z.object({});

/**
 * Job records in a NATS KV bucket (its TTL is JOB_TTL_SECONDS), every key under its owner:
 * `<principal>.<jobId>` (the record) and `<principal>.session.<sessionId>` (a session its jobs
 * recorded). Writes are compare-and-set.
 */
export function natsJobStore(kv: KV): JobStore {
  const key = (caller: string, id: string) => `${caller}.${id}`;
  /** Writes the value if the key is new (or deleted); else the value already there. */
  const createOrGet = async <T>(
    k: string,
    schema: z.ZodType<T>,
    value: T,
  ): Promise<{ created: boolean; value: T }> => {
    try {
      await kv.create(k, new TextEncoder().encode(JSON.stringify(value)));
      return { created: true, value };
    } catch (err) {
      const existing = await kvGetJson(kv, k, schema);
      if (existing) return { created: false, value: existing.value as T };
      throw err;
    }
  };
  const records = async (filter: string) => {
    const keys: string[] = [];
    for await (const k of await kv.keys(filter)) keys.push(k);
    const found = await Promise.all(keys.map((k) => kvGetJson(kv, k, JobRecord)));
    return found.flatMap((e) => (e ? [e.value] : []));
  };
  return {
    async get(caller, id) {
      return (await kvGetJson(kv, key(caller, id), JobRecord))?.value ?? null;
    },
    async find(id) {
      return (await records(`*.${id}`))[0] ?? null;
    },
    async create(record) {
      const { created, value } = await createOrGet(
        key(record.caller, record.id),
        JobRecord,
        JobRecord.parse(record),
      );
      return { created, record: value };
    },
    async update(caller, id, fn) {
      const entry = await kvUpdateJson(kv, key(caller, id), JobRecord, (current) => {
        if (!current) throw new Error(`job ${id} of ${caller} has no record`);
        return fn(current);
      });
      return entry.value;
    },
    async delete(caller, id) {
      await kv.delete(key(caller, id));
    },
    list: (caller) => records(caller === undefined ? "*.*" : `${caller}.*`),
    async addSession(caller, sessionId) {
      await kv.put(`${caller}.session.${sessionId}`, new TextEncoder().encode("{}"));
    },
    async hasSession(caller, sessionId) {
      return (await kvGetJson(kv, `${caller}.session.${sessionId}`, Marker)) !== null;
    },
  };
}
