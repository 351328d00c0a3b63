import { ConversationId } from "@claude-gateway/contracts";
import { z } from "zod";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the service remembers of a conversation (a NATS KV value): which CLI session holds it.
 * Rewritten after every turn, so the bucket's max age works as an idle TTL.
 */
export const ConversationRecord = z.object({
  conversationId: ConversationId,
  sessionId: z.string().regex(UUID, "a UUID"),
  /** The model of the last turn; the next turn keeps it unless it asks for another. */
  model: z.string().min(1),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** Turns that completed. */
  turns: z.number().int().positive(),
  /**
   * The principal that started it (`tok_…`, `ak_…`, `nats_…`): the only caller that may continue
   * it. A record without one (or with a bare name, from before principals) belongs to no one.
   */
  createdBy: z.string().optional(),
  /**
   * SHA-256 of the session transcript as saved after the last turn. A replica whose local copy
   * differs (missing, or stale because another replica ran a later turn) restores the stored one.
   */
  transcriptSha256: z.string().optional(),
  /**
   * The replica whose warm CLI process holds the conversation after its last turn: turns that
   * reach another replica are forwarded there. A hint only: the process may since have closed (the
   * owner then runs the turn cold), and an owner that answers nothing is taken over.
   */
  warmOn: z.string().optional(),
});
export type ConversationRecord = z.infer<typeof ConversationRecord>;

export interface CompletedTurn {
  sessionId: string;
  model: string;
  at: Date;
  transcriptSha256: string | undefined;
  /** The replica keeping the conversation's process warm, if one does. */
  warmOn?: string | undefined;
}

/** Whether the stored conversation is `principal`'s: anyone else is told it does not exist. */
export function ownedBy(record: ConversationRecord, principal: string): boolean {
  return record.createdBy === principal;
}

export function newRecord(
  conversationId: string,
  createdBy: string,
  turn: CompletedTurn,
): ConversationRecord {
  const at = turn.at.toISOString();
  return {
    conversationId,
    sessionId: turn.sessionId,
    model: turn.model,
    createdAt: at,
    updatedAt: at,
    turns: 1,
    createdBy,
    ...(turn.transcriptSha256 !== undefined ? { transcriptSha256: turn.transcriptSha256 } : {}),
    ...(turn.warmOn !== undefined ? { warmOn: turn.warmOn } : {}),
  };
}

export function recordTurn(record: ConversationRecord, turn: CompletedTurn): ConversationRecord {
  const { transcriptSha256: _previous, warmOn: _wasWarmOn, ...rest } = record;
  return {
    ...rest,
    sessionId: turn.sessionId,
    model: turn.model,
    updatedAt: turn.at.toISOString(),
    turns: record.turns + 1,
    ...(turn.transcriptSha256 !== undefined ? { transcriptSha256: turn.transcriptSha256 } : {}),
    ...(turn.warmOn !== undefined ? { warmOn: turn.warmOn } : {}),
  };
}
