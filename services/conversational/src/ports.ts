import type { ClaudeRun, RunOptions } from "@claude-gateway/claude";
import type { ConversationRecord } from "./core/record.js";

/** Conversation id → CLI session and owner, shared by every replica (NATS KV in production). */
export interface ConversationStore {
  /** The record, or null for an unknown (or expired) conversation. */
  get(conversationId: string): Promise<ConversationRecord | null>;
  /**
   * Writes a new conversation; fails if the id exists (a bug: new ids are minted, or claimed by a
   * caller under the conversation's lock).
   */
  create(record: ConversationRecord): Promise<void>;
  /** Replaces the record after a turn; the caller holds the conversation's lock. */
  put(record: ConversationRecord): Promise<void>;
}

/**
 * Lets the next turn in. `lost`, when the lock can be lost (a lease across replicas), aborts if
 * another replica took the conversation over while this one held it: stop, write nothing.
 */
export type Release = (() => Promise<void>) & { readonly lost?: AbortSignal };

/** Serializes the turns of one conversation, across replicas. */
export interface ConversationLock {
  /** Resolves once the caller holds the conversation; call the result to let the next one in. */
  acquire(conversationId: string, signal?: AbortSignal): Promise<Release>;
}

/** Session transcripts kept off the pod, so `--resume` works on any replica. */
export type { TranscriptStore } from "@claude-gateway/claude";

export type ClaudeRunner = (opts: RunOptions) => ClaudeRun;

export interface Clock {
  now(): Date;
}
