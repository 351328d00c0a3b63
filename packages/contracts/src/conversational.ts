import { z } from "zod";
import { TokenUsage } from "./job.js";

export const Language = z.enum(["bg", "en"]);
export type Language = z.infer<typeof Language>;

export const ConversationId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

export const ConversationalRequest = z
  .object({
    conversation_id: ConversationId.optional(),
    message: z.string().min(1).max(20_000),
    language: Language.optional(),
    model: z.string().min(1).max(100).optional(),
    stream: z.boolean().optional(),
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
