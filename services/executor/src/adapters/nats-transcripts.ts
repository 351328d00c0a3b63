import { readFile, writeFile } from "node:fs/promises";
import type { ObjectStore } from "@nats-io/obj";
import type { TranscriptStore } from "../ports.js";

/** Session transcripts in a NATS object store, keyed by session id. */
export function natsTranscriptStore(store: ObjectStore): TranscriptStore {
  return {
    async restore(sessionId, path) {
      const data = await store.getBlob(`${sessionId}.jsonl`);
      if (!data) return false;
      await writeFile(path, data);
      return true;
    },
    async save(sessionId, path) {
      const data = await readFile(path);
      await store.putBlob({ name: `${sessionId}.jsonl` }, data);
    },
  };
}
