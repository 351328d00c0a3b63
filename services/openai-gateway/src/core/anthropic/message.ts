import type { JobRecord, PendingToolCalls, TokenUsage } from "@claude-gateway/contracts";
import { fromFinishedJob } from "../errors.js";
import { createStopScanner } from "../stop.js";
import { type JsonSchema, structuredAnswer } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";

/**
 * The Messages API's reply objects, as `@anthropic-ai/sdk` 1.17 types them (`Message`, `Usage`):
 * every field the SDK declares is present, the ones the gateway cannot know as `null`.
 */

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "refusal" | "tool_use";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: null;
  inference_geo: null;
  output_tokens_details: null;
  server_tool_use: null;
  service_tier: null;
  speed: null;
}

export interface TextContent {
  type: "text";
  text: string;
  citations: null;
}

/** A call of the caller's tools (the SDK's `ToolUseBlock`), by the model itself. */
export interface ToolUseContent {
  type: "tool_use";
  /** The gateway's id for the call (`tools/call-id.ts`): the client's result names the job with it. */
  id: string;
  name: string;
  input: Record<string, unknown>;
  caller: { type: "direct" };
}

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: Array<TextContent | ToolUseContent>;
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: AnthropicUsage;
}

/** What the reply to one request knows besides the job. */
export interface MessageContext {
  /** `msg_…` */
  id: string;
  /** The model id the client asked for. */
  model: string;
}

/** What the request asked of the answer. */
export interface AnswerOptions {
  stop: readonly string[];
  /** Structured output: the answer is the job's structured output as JSON. */
  jsonSchema?: JsonSchema | undefined;
}

/** `msg_` and the request's uuid without dashes, as Anthropic's ids look. */
export function messageId(uuid: string): string {
  return `msg_${uuid.replaceAll("-", "")}`;
}

const NO_TOKENS: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
};

/** The run's tokens in Anthropic's terms (the same four counts the CLI reports). */
export function usageOf(usage: TokenUsage | undefined): AnthropicUsage {
  const u = usage ?? NO_TOKENS;
  return {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    cache_creation_input_tokens: u.cacheCreationInputTokens,
    cache_read_input_tokens: u.cacheReadInputTokens,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: null,
    speed: null,
  };
}

/**
 * Why the answer ended: a stop sequence of the request's that cut it, else what the model's last
 * API message said when it is something a client acts on (`max_tokens`, `refusal`), else `end_turn`.
 */
export function stopReasonOf(modelStopReason: string | undefined, stopSequence: string | null): StopReason {
  if (stopSequence !== null) return "stop_sequence";
  if (modelStopReason === "max_tokens" || modelStopReason === "refusal") return modelStopReason;
  return "end_turn";
}

/**
 * The stop sequence that cut a text: `raw` is the text as generated, `kept` how much of it was
 * kept. Several may match where the cut is; the first of the request's list wins, as the scanner
 * cuts at the earliest match and takes the first sequence found there.
 */
export function stopSequenceAt(raw: string, kept: number, stops: readonly string[]): string | null {
  return stops.find((s) => s !== "" && raw.startsWith(s, kept)) ?? null;
}

/** A whole answer cut at its first stop sequence, and the sequence (or null). */
export function cutAtStop(
  text: string,
  stops: readonly string[],
): { text: string; stopSequence: string | null } {
  const scanner = createStopScanner(stops);
  const kept = scanner.push(text) + scanner.flush();
  return { text: kept, stopSequence: scanner.stopped ? stopSequenceAt(text, kept.length, stops) : null };
}

/** The text a finished job answers: its final message, or its structured output as JSON. */
export function answerOf(job: JobRecord, opts: Pick<AnswerOptions, "jsonSchema">): string {
  if (job.status !== "succeeded" || !job.result) throw fromFinishedJob(job);
  return opts.jsonSchema ? structuredAnswer(job, opts.jsonSchema) : job.result.text;
}

/**
 * The Message of a finished job; a job that did not succeed throws the error the client gets
 * instead. One text block: the agent's final message (or the structured output), cut at the first
 * stop sequence.
 */
export function messageFromJob(ctx: MessageContext, job: JobRecord, opts: AnswerOptions): AnthropicMessage {
  const { text, stopSequence } = cutAtStop(answerOf(job, opts), opts.stop);
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content: [{ type: "text", text, citations: null }],
    stop_reason: stopReasonOf(job.result?.stopReason, stopSequence),
    stop_sequence: stopSequence,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: usageOf(job.usage),
  };
}

/** The calls of a paused job as `tool_use` blocks, in order, with the gateway's ids. */
export function toolUseBlocks(jobId: string, pending: Pick<PendingToolCalls, "calls">): ToolUseContent[] {
  return pending.calls.map((call) => ({
    type: "tool_use",
    id: clientCallId(jobId, call.id),
    name: call.name,
    input: call.input,
    caller: { type: "direct" },
  }));
}

/**
 * The Message of a job that paused on calls of the caller's tools: the text of the message that
 * made them (a block, if any) and a `tool_use` block per call; `stop_reason` is `tool_use`. The
 * client's next request, whose last message holds the results, continues the same job.
 */
export function pausedMessage(
  ctx: MessageContext,
  jobId: string,
  pending: Pick<PendingToolCalls, "calls" | "text">,
): AnthropicMessage {
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content: [
      // Anthropic refuses empty text blocks, and a client sends this content back as it is.
      ...(pending.text !== "" ? [{ type: "text" as const, text: pending.text, citations: null }] : []),
      ...toolUseBlocks(jobId, pending),
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    // The job goes on: its spend is known, and reported, in the answer of the request it ends in.
    usage: usageOf(undefined),
  };
}
