import type { ObjectResult, ObjectStore } from "@nats-io/obj";

/**
 * The bytes of CLI session transcripts by session id: the shape `transcriptStore` of
 * @claude-gateway/claude takes (declared here too, so neither package depends on the other).
 */
export interface TranscriptBlobs {
  /** Null if none is stored. Iterating throws if the transfer fails or the digest does not match. */
  get(sessionId: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Replaces the stored object; a failed put leaves the previous one in place. */
  put(sessionId: string, data: AsyncIterable<Uint8Array>): Promise<void>;
}

/** Transcripts in a NATS object store, one object `<sessionId>.jsonl` each, streamed both ways. */
export function natsTranscriptBlobs(store: ObjectStore): TranscriptBlobs {
  return {
    async get(sessionId) {
      const object = await store.get(transcriptObjectName(sessionId));
      return object ? verifiedData(object) : null;
    },
    async put(sessionId, data) {
      await store.put({ name: transcriptObjectName(sessionId) }, toReadableStream(data));
    },
  };
}

/** The object name of a session's transcript (existing buckets hold objects under this name). */
export function transcriptObjectName(sessionId: string): string {
  return `${sessionId}.jsonl`;
}

/** The object's chunks, then its end-of-transfer verdict: a digest mismatch or lost transfer throws. */
function verifiedData(object: ObjectResult): AsyncIterable<Uint8Array> {
  // Settled from the start: a failure nobody iterates to must not be an unhandled rejection.
  const verdict = object.error.then(
    (err) => err ?? undefined,
    (err: unknown) => err,
  );
  return (async function* () {
    yield* object.data;
    const err = await verdict;
    if (err) throw err;
  })();
}

function toReadableStream(data: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const chunks = data[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await chunks.return?.(reason);
    },
  });
}
