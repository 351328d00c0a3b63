import type { JobRecord, PendingToolCalls, TokenUsage } from "@claude-gateway/contracts";
import { fromFinishedJob } from "./errors.js";
import { truncateAtStop } from "./stop.js";
import { type JsonSchema, structuredAnswer } from "./structured.js";
import { clientCallId } from "./tools/call-id.js";

/** OpenAI's usage object. Cached prompt tokens are reported as OpenAI does, as a detail. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** What every object of one response shares. */
export interface CompletionContext {
  /** `chatcmpl-…` */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model id the client asked for (or the default when it named none). */
  model: string;
}

/** A call of the caller's tools, as the client gets it (the `openai` SDK's `ChatCompletionMessageToolCall`). */
export interface ChatToolCall {
  /** The gateway's id for the call (`tools/call-id.ts`): the client's result names the job with it. */
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: "assistant"; content: string | null; refusal: null; tool_calls?: ChatToolCall[] };
    logprobs: null;
    finish_reason: "stop" | "tool_calls";
  }>;
  usage: ChatUsage;
}

/**
 * The CLI's tokens in OpenAI's terms: everything read as input is the prompt (fresh, cache read
 * and cache written), everything generated is the completion.
 */
export function usageFrom(usage: TokenUsage | undefined): ChatUsage {
  const u = usage ?? {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
  };
  const prompt = u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadInputTokens },
  };
}

/**
 * The chat completion of a finished job; a job that did not succeed throws the error the client
 * gets instead. The answer is the CLI's result: the agent's final message, or with a `schema` its
 * structured output (checked against the schema) as JSON.
 */
export function completionFromJob(
  ctx: CompletionContext,
  job: JobRecord,
  stop: readonly string[] = [],
  schema?: JsonSchema,
): ChatCompletion {
  if (job.status !== "succeeded" || !job.result) throw fromFinishedJob(job);
  // Structured output is the object the agent gave, as JSON (stop sequences do not cut it).
  const content = schema ? structuredAnswer(job, schema) : truncateAtStop(job.result.text, stop);
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, refusal: null },
        logprobs: null,
        // The CLI does not say when an answer hit its token limit, so every answer ends as "stop".
        finish_reason: "stop",
      },
    ],
    usage: usageFrom(job.usage),
  };
}

/** The calls of a paused job as the client gets them, in order, with the gateway's ids. */
export function chatToolCalls(jobId: string, pending: Pick<PendingToolCalls, "calls">): ChatToolCall[] {
  return pending.calls.map((call) => ({
    id: clientCallId(jobId, call.id),
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.input) },
  }));
}

/**
 * The chat completion of a job that paused on calls of the caller's tools: the text of the message
 * that made them (null if none) and the calls; `finish_reason` is `tool_calls`. The client's next
 * request, with the results, continues the same job.
 */
export function toolCallsCompletion(
  ctx: CompletionContext,
  jobId: string,
  pending: Pick<PendingToolCalls, "calls" | "text">,
): ChatCompletion {
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: pending.text === "" ? null : pending.text,
          refusal: null,
          tool_calls: chatToolCalls(jobId, pending),
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ],
    // The job goes on: its spend is known, and reported, in the answer of the request it ends in.
    usage: usageFrom(undefined),
  };
}
