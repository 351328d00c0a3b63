import type { JobRecord } from "@claude-gateway/contracts";
import type { CancelBus, JobQueue, JobStore } from "../ports.js";

/** In-memory adapters for unit tests of the service and the app. */
export function memoryStore(): JobStore & { records: Map<string, JobRecord> } {
  const records = new Map<string, JobRecord>();
  return {
    records,
    get: async (id) => records.get(id) ?? null,
    create: async (record) => {
      const existing = records.get(record.id);
      if (existing) return { created: false, record: existing };
      records.set(record.id, record);
      return { created: true, record };
    },
    update: async (id, fn) => {
      const current = records.get(id);
      if (!current) throw new Error(`job ${id} has no record`);
      const next = fn(current);
      records.set(id, next);
      return next;
    },
    delete: async (id) => {
      records.delete(id);
    },
  };
}

export function memoryQueue(): JobQueue & { ids: string[]; failNext: boolean } {
  const q = {
    ids: [] as string[],
    failNext: false,
    enqueue: async (id: string) => {
      if (q.failNext) {
        q.failNext = false;
        throw new Error("stream unavailable");
      }
      q.ids.push(id);
    },
    stats: async () => ({ queued: q.ids.length }),
  };
  return q;
}

export function recordingCancelBus(): CancelBus & { sent: Array<{ id: string; reason: string }> } {
  const sent: Array<{ id: string; reason: string }> = [];
  return { sent, broadcast: async (id, reason) => void sent.push({ id, reason }) };
}
