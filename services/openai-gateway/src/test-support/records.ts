import type { JobRecord } from "@claude-gateway/contracts";
import { USAGE } from "./fake-executor.js";

/** A job record in any state, for the pure cores' tests. */
export function jobRecord(patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id: "oai-1",
    status: "succeeded",
    agent: "general",
    model: "claude-haiku-4-5",
    caller: "tester",
    submission: { id: "oai-1", agent: "general", prompt: "Hi" },
    queuedAt: "2026-01-01T00:00:00.000Z",
    attempts: 1,
    result: { text: "Hello there.", sessionId: "s", numTurns: 1, permissionDenials: 0 },
    usage: USAGE,
    costUsd: 0.01,
    ...patch,
  };
}

export function failedJob(status: JobRecord["status"], reason?: string, message?: string): JobRecord {
  const { result: _r, ...rest } = jobRecord();
  return {
    ...rest,
    status,
    ...(reason ? { error: { reason, message: message ?? `${reason} happened` } as JobRecord["error"] } : {}),
  };
}

/** `USAGE` in OpenAI's terms: what a client is told a job spent. */
export const CHAT_USAGE = {
  prompt_tokens: 130,
  completion_tokens: 5,
  total_tokens: 135,
  prompt_tokens_details: { cached_tokens: 100 },
};

/** The chat completion a client gets for a job that answered "Hello there." and spent `USAGE`. */
export function helloCompletion(ctx: { id: string; created: number; model: string }) {
  return {
    ...ctx,
    object: "chat.completion",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "Hello there.", refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: CHAT_USAGE,
  };
}
