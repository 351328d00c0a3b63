import { encodeJson, kvGetJson, kvPutJson } from "@claude-gateway/nats";
import type { KV } from "@nats-io/kv";
import { ConversationRecord } from "../core/record.js";
import { StoreUnavailableError } from "../errors.js";
import type { ConversationStore } from "../ports.js";

/**
 * Conversation records in a NATS KV bucket, keyed by conversation id. The bucket keeps one
 * revision per key and a max age: every turn rewrites the key, so the age is an idle TTL.
 */
export function natsConversationStore(kv: KV): ConversationStore {
  return {
    get: (id) =>
      guard(
        `read conversation ${id}`,
        async () => (await kvGetJson(kv, id, ConversationRecord))?.value ?? null,
      ),
    create: (record) =>
      guard(`create conversation ${record.conversationId}`, async () => {
        await kv.create(record.conversationId, encodeJson(ConversationRecord.parse(record)));
      }),
    put: (record) =>
      guard(`update conversation ${record.conversationId}`, async () => {
        await kvPutJson(kv, record.conversationId, ConversationRecord, record);
      }),
  };
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(`could not ${what}: ${(err as Error).message}`, { cause: err });
  }
}
