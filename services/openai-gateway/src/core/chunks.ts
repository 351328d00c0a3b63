import type { JobEvent, JobRecord } from "@claude-gateway/contracts";
import { type ChatUsage, type CompletionContext, chatToolCalls, usageFrom } from "./completion.js";
import { fromFinishedJob } from "./errors.js";
import { createStopScanner } from "./stop.js";
import { type JsonSchema, structuredAnswer } from "./structured.js";

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    delta: { role?: "assistant"; content?: string; tool_calls?: ChunkToolCall[] };
    logprobs: null;
    finish_reason: "stop" | "tool_calls" | null;
  }>;
  /** Present (null until the last chunk) only when the client asked for usage. */
  usage?: ChatUsage | null;
}

/** One call in a chunk (the `openai` SDK's `ChoiceDeltaToolCall`): whole, the arguments at once. */
export interface ChunkToolCall {
  index: number;
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChunkContext extends CompletionContext {
  /** The job's id: the calls of its tools get ids that name it. */
  jobId: string;
  includeUsage: boolean;
  /**
   * Structured output: the answer is the object the agent gives at the end, sent whole when the
   * job ends; the text the agent writes on the way (prose around the object) is not part of it.
   */
  schema?: JsonSchema | undefined;
}

/** Text after tool activity starts a new paragraph: the agent's turns otherwise run together. */
const TURN_SEPARATOR = "\n\n";

/**
 * Turns a job's live events into `chat.completion.chunk` objects: the role first, then each text
 * delta as it was generated, then `finish_reason`, then usage when asked. Pure: the caller feeds
 * events and sends what comes back.
 *
 * A job that pauses on calls of the caller's tools (a `tool_calls` event) ends the stream there: a
 * chunk per call, then `finish_reason: "tool_calls"` (and usage, zero: the job goes on).
 */
export interface Chunker {
  /** Chunks for one event (none for status, tool and result events; the end for `tool_calls`). */
  push(event: JobEvent): ChatCompletionChunk[];
  /** The role chunk, if not sent yet: for opening a stream before any text. */
  open(): ChatCompletionChunk[];
  /**
   * The closing chunks of a job that succeeded: whatever text of the final answer did not arrive
   * as events, held-back text, `finish_reason`, usage. Throws the client's error for any other job.
   */
  finish(job: JobRecord): ChatCompletionChunk[];
  /** True once any content chunk was produced. */
  readonly hasContent: boolean;
}

export function createChunker(ctx: ChunkContext, stop: readonly string[] = []): Chunker {
  const scanner = createStopScanner(stop);
  let opened = false;
  let hasContent = false;
  let sentAny = false;
  let afterTool = false;
  /** The text of the current turn as generated, to work out what the final answer still lacks. */
  let turnText = "";

  const chunk = (
    delta: ChatCompletionChunk["choices"][0]["delta"],
    finish: ChatCompletionChunk["choices"][0]["finish_reason"] = null,
  ) => ({
    id: ctx.id,
    object: "chat.completion.chunk" as const,
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0 as const, delta, logprobs: null, finish_reason: finish }],
    ...(ctx.includeUsage ? { usage: null } : {}),
  });
  const open = () => {
    if (opened) return [];
    opened = true;
    return [chunk({ role: "assistant", content: "" })];
  };
  /** Text that passed the stop scanner. */
  const emit = (text: string): ChatCompletionChunk[] => {
    if (text === "") return [];
    hasContent = true;
    return [...open(), chunk({ content: text })];
  };
  const content = (text: string) => emit(scanner.push(text));
  /** `finish_reason`, then usage when asked. */
  const closing = (finish: "stop" | "tool_calls", usage: JobRecord["usage"]): ChatCompletionChunk[] => [
    chunk({}, finish),
    ...(ctx.includeUsage
      ? [
          {
            id: ctx.id,
            object: "chat.completion.chunk" as const,
            created: ctx.created,
            model: ctx.model,
            choices: [],
            usage: usageFrom(usage),
          },
        ]
      : []),
  ];
  /** The text of the message that made the calls that did not arrive as events, then the calls. */
  const toolCalls = (event: Extract<JobEvent, { type: "tool_calls" }>): ChatCompletionChunk[] => {
    const missing = event.text.startsWith(turnText) ? event.text.slice(turnText.length) : "";
    const out = [...open(), ...(missing && !ctx.schema ? content(missing) : [])];
    out.push(...emit(scanner.flush()));
    hasContent = true;
    chatToolCalls(ctx.jobId, event).forEach((call, index) => {
      out.push(chunk({ tool_calls: [{ index, ...call }] }));
    });
    // The job goes on: its spend is reported in the answer of the request it ends in.
    out.push(...closing("tool_calls", undefined));
    return out;
  };

  return {
    get hasContent() {
      return hasContent;
    },
    open,
    push(event) {
      if (event.type === "tool_calls") return toolCalls(event);
      if (event.type === "tool_use" || event.type === "tool_result") {
        afterTool = true;
        turnText = "";
        return [];
      }
      if (event.type !== "text" || event.delta === "" || ctx.schema) return [];
      const separator = afterTool && sentAny ? TURN_SEPARATOR : "";
      afterTool = false;
      sentAny = true;
      turnText += event.delta;
      return content(separator + event.delta);
    },
    finish(job) {
      if (job.status !== "succeeded" || !job.result) throw fromFinishedJob(job);
      if (ctx.schema) {
        return [...open(), ...emit(structuredAnswer(job, ctx.schema)), ...closing("stop", job.usage)];
      }
      const answer = job.result.text;
      // Events are not durable: if some were missed, send the part of the answer still missing.
      const missing = answer.startsWith(turnText) ? answer.slice(turnText.length) : "";
      const out = [...open(), ...(missing ? content(missing) : [])];
      out.push(...emit(scanner.flush()));
      out.push(...closing("stop", job.usage));
      return out;
    },
  };
}
