import { z } from "zod";
import { ErrorEnvelope } from "./errors.js";
import { TokenUsage } from "./job.js";
import { PrincipalId } from "./principal.js";

export const Language = z.enum(["bg", "en"]);
export type Language = z.infer<typeof Language>;

/**
 * A BCP-47 tag of a language the agent speaks, as speech recognisers report it: `bg` or `en`,
 * optionally with a region (`bg-BG`, `en-US`, `en-GB`, `en-001`), in any case.
 */
export const LanguageTag = z
  .string()
  .regex(
    /^(bg|en)(-([a-z]{2}|[0-9]{3}))?$/i,
    "not an accepted language tag; accepted: bg or en, optionally with a region (bg-BG, en-US, en-GB, …), any case",
  );
export type LanguageTag = z.infer<typeof LanguageTag>;

/** The language an accepted tag names (`en-GB` → `en`). */
export function languageOfTag(tag: LanguageTag): Language {
  return Language.parse(tag.slice(0, 2).toLowerCase());
}

export const ConversationId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

export const ConversationalRequest = z
  .object({
    conversation_id: ConversationId.optional(),
    message: z.string().min(1).max(20_000),
    language: LanguageTag.optional(),
    model: z.string().min(1).max(100).optional(),
    stream: z.boolean().optional(),
    /**
     * Over NATS the caller is the subject's last token (`agent.v1.conversational.turn.<principal>`),
     * which the server's permissions enforce; a payload may repeat it, and one naming anyone else
     * is refused. Over HTTP it is refused: the service takes it from the credentials.
     */
    caller: PrincipalId.optional(),
  })
  .strict();
export type ConversationalRequest = z.infer<typeof ConversationalRequest>;

export const ConversationalReply = z.object({
  conversation_id: ConversationId,
  reply: z.string(),
  session_id: z.string(),
  model: z.string(),
  usage: TokenUsage.extend({ costUsd: z.number() }),
  duration_ms: z.number(),
});
export type ConversationalReply = z.infer<typeof ConversationalReply>;

/**
 * A turn one replica hands to the replica that holds the conversation's warm CLI process, on
 * `subjects.conversational.forwardTo(owner)` (only our conversational replicas may publish there).
 * The owner answers the request at once (`ForwardAccepted`) and then publishes the turn's
 * `ForwardedEvent`s to `events`, a subject under the sender's own replica subject.
 */
export const ForwardedTurn = z
  .object({
    /** The turn as its caller sent it (its `caller` left out: the sender checked it). */
    request: ConversationalRequest.omit({ caller: true, stream: true }),
    /** The principal the turn runs for, as the sender authenticated it. */
    caller: PrincipalId,
    /** Where the owner publishes the turn's events. */
    events: z.string().min(1).max(256),
  })
  .strict();
export type ForwardedTurn = z.infer<typeof ForwardedTurn>;

export const ForwardAccepted = z.object({ accepted: z.literal(true) });
export type ForwardAccepted = z.infer<typeof ForwardAccepted>;

/** What the owner sends back for a forwarded turn: its sentences as they come, then its end. */
export const ForwardedEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("sentence"), text: z.string() }),
  z.object({ type: z.literal("done"), reply: ConversationalReply }),
  z.object({ type: z.literal("error"), status: z.number().int().min(400).max(599), error: ErrorEnvelope }),
]);
export type ForwardedEvent = z.infer<typeof ForwardedEvent>;
