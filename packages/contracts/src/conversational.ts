import { z } from "zod";
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
