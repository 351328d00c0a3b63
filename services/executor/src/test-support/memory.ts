import type { JobRecord } from "@claude-gateway/contracts";
import { PayloadMissingError } from "@claude-gateway/nats";
import type { CancelBus, JobQueue, JobStore, Payloads, QueuedJob } from "../ports.js";

/** In-memory adapters for unit tests of the service and the app. Records keyed `<caller>.<id>`. */
export function memoryStore(): JobStore & { records: Map<string, JobRecord> } {
  const records = new Map<string, JobRecord>();
  const sessions = new Set<string>();
  const key = (caller: string, id: string) => `${caller}.${id}`;
  return {
    records,
    get: async (caller, id) => records.get(key(caller, id)) ?? null,
    find: async (id) => [...records.values()].find((r) => r.id === id) ?? null,
    create: async (record) => {
      const existing = records.get(key(record.caller, record.id));
      if (existing) return { created: false, record: existing };
      records.set(key(record.caller, record.id), record);
      return { created: true, record };
    },
    update: async (caller, id, fn) => {
      const current = records.get(key(caller, id));
      if (!current) throw new Error(`job ${id} of ${caller} has no record`);
      const next = fn(current);
      records.set(key(caller, id), next);
      return next;
    },
    delete: async (caller, id) => {
      records.delete(key(caller, id));
    },
    list: async (caller) => [...records.values()].filter((r) => caller === undefined || r.caller === caller),
    addSession: async (caller, sessionId) => {
      sessions.add(key(caller, sessionId));
    },
    hasSession: async (caller, sessionId) => sessions.has(key(caller, sessionId)),
  };
}

export function memoryQueue(): JobQueue & { ids: string[]; messages: QueuedJob[]; failNext: boolean } {
  const q = {
    ids: [] as string[],
    messages: [] as QueuedJob[],
    failNext: false,
    enqueue: async (job: QueuedJob) => {
      if (q.failNext) {
        q.failNext = false;
        throw new Error("stream unavailable");
      }
      q.ids.push(job.id);
      q.messages.push(job);
    },
    stats: async () => ({ queued: q.ids.length }),
  };
  return q;
}

export function recordingCancelBus(): CancelBus & { sent: Array<{ id: string; reason: string }> } {
  const sent: Array<{ id: string; reason: string }> = [];
  return { sent, broadcast: async (id, reason) => void sent.push({ id, reason }) };
}

/** The payload store in memory; `down` makes every call fail as a store that cannot be reached. */
export function memoryPayloads(): Payloads & { objects: Map<string, string>; down: boolean } {
  const objects = new Map<string, string>();
  const self = {
    objects,
    down: false,
    async put(object: string, text: string) {
      if (self.down) throw new Error("payload store unreachable");
      objects.set(object, text);
      return { object, bytes: Buffer.byteLength(text) };
    },
    async get(ref: { object: string; bytes: number }) {
      if (self.down) throw new Error("payload store unreachable");
      const text = objects.get(ref.object);
      if (text === undefined) throw new PayloadMissingError(ref.object);
      return text;
    },
  };
  return self;
}
