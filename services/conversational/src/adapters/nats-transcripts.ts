import { randomUUID } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { ObjectStore } from "@nats-io/obj";
import type { TranscriptStore } from "../ports.js";

/** Session transcripts in a NATS object store, keyed by session id. */
export function natsTranscriptStore(store: ObjectStore): TranscriptStore {
  return {
    async restore(sessionId, path) {
      const data = await store.getBlob(objectName(sessionId));
      if (!data) return false;
      // Replaced in one step: a failed restore never leaves a half-written transcript for the CLI.
      const partial = `${path}.${randomUUID()}.partial`;
      try {
        await writeFile(partial, data);
        await rename(partial, path);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return true;
    },
    async save(sessionId, path) {
      await store.putBlob({ name: objectName(sessionId) }, await readFile(path));
    },
  };
}

const objectName = (sessionId: string) => `${sessionId}.jsonl`;
