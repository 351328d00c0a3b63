import type { JobEvent, JobRecord, TokenUsage } from "@claude-gateway/contracts";
import type { StreamEncoder } from "../../job-stream.js";
import { createStopScanner } from "../stop.js";
import {
  type AnswerOptions,
  type AnthropicMessage,
  answerOf,
  type MessageContext,
  type StopReason,
  stopReasonOf,
  stopSequenceAt,
  type ToolUseContent,
  toolUseBlocks,
  usageOf,
} from "./message.js";

/** The Messages API's stream events (SDK 1.17's `RawMessageStreamEvent`): text and tool calls. */
export type MessageStreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  | {
      type: "content_block_start";
      index: number;
      content_block: { type: "text"; text: ""; citations: null } | ToolUseContent;
    }
  | {
      type: "content_block_delta";
      index: number;
      delta: { type: "text_delta"; text: string } | { type: "input_json_delta"; partial_json: string };
    }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason: StopReason; stop_sequence: string | null; stop_details: null; container: null };
      usage: {
        input_tokens: number;
        output_tokens: number;
        cache_creation_input_tokens: number;
        cache_read_input_tokens: number;
        output_tokens_details: null;
        server_tool_use: null;
      };
    }
  | { type: "message_stop" };

/** Text after tool activity continues the block as a new paragraph, as chat completions' chunks do. */
const TURN_SEPARATOR = "\n\n";

/**
 * Turns a job's live events into one Message's stream: `message_start` and one text block opened
 * at the first text, a `text_delta` per text event (as the API sent it; never re-chunked), then
 * the block's end, `message_delta` (stop reason, usage) and `message_stop`. An agent's run may span
 * several API messages; the client sees one message, its turns separated by blank lines. Pure.
 *
 * With structured output the answer is the job's structured output, sent whole at the end: the
 * agent's prose on the way is not the answer.
 *
 * A job that pauses on calls of the caller's tools (a `tool_calls` event) ends the message there:
 * the text block (if any) is closed, each call is a `tool_use` block (its input in one
 * `input_json_delta`), and `message_delta` says `tool_use`.
 */
export function createMessageEncoder(
  ctx: MessageContext & { jobId: string },
  opts: AnswerOptions,
): StreamEncoder<MessageStreamEvent> {
  const scanner = createStopScanner(opts.stop);
  let opened = false;
  /** The text block (index 0) was started: a message without text has none. */
  let textStarted = false;
  let hasContent = false;
  let sentAny = false;
  let afterTool = false;
  /** The text of the current turn as generated, to work out what the final answer still lacks. */
  let turnText = "";
  /** Everything given to the stop scanner, and how much of it went out: where a cut was. */
  let raw = "";
  let kept = 0;

  const open = (): MessageStreamEvent[] => {
    if (opened) return [];
    opened = true;
    return [
      {
        type: "message_start",
        message: {
          id: ctx.id,
          type: "message",
          role: "assistant",
          model: ctx.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          container: null,
          diagnostics: null,
          // Known when the job ends: `message_delta` carries the run's totals.
          usage: usageOf(undefined),
        },
      },
    ];
  };
  const startText = (): MessageStreamEvent[] => {
    if (textStarted) return [];
    textStarted = true;
    return [
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "", citations: null } },
    ];
  };
  /** Text that passed the stop scanner. */
  const emit = (text: string): MessageStreamEvent[] => {
    if (text === "") return [];
    hasContent = true;
    kept += text.length;
    return [
      ...open(),
      ...startText(),
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
    ];
  };
  const content = (text: string) => {
    raw += text;
    return emit(scanner.push(text));
  };

  const ending = (
    stopReason: StopReason,
    stopSequence: string | null,
    tokens: TokenUsage | undefined,
  ): MessageStreamEvent[] => {
    const usage = usageOf(tokens);
    return [
      {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: stopSequence, stop_details: null, container: null },
        usage: {
          input_tokens: usage.input_tokens,
          output_tokens: usage.output_tokens,
          cache_creation_input_tokens: usage.cache_creation_input_tokens,
          cache_read_input_tokens: usage.cache_read_input_tokens,
          output_tokens_details: null,
          server_tool_use: null,
        },
      },
      { type: "message_stop" },
    ];
  };
  const toolCalls = (event: Extract<JobEvent, { type: "tool_calls" }>): MessageStreamEvent[] => {
    // Events are not durable: send the part of the message's text that did not arrive as events.
    const missing = event.text.startsWith(turnText) ? event.text.slice(turnText.length) : "";
    const out = [...open(), ...(missing && !opts.jsonSchema ? content(missing) : [])];
    out.push(...emit(scanner.flush()));
    if (textStarted) out.push({ type: "content_block_stop", index: 0 });
    const first = textStarted ? 1 : 0;
    toolUseBlocks(ctx.jobId, event).forEach((block, i) => {
      const index = first + i;
      out.push(
        { type: "content_block_start", index, content_block: { ...block, input: {} } },
        {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
        },
        { type: "content_block_stop", index },
      );
    });
    hasContent = true;
    // The job goes on: its spend is reported in the answer of the request it ends in.
    out.push(...ending("tool_use", null, undefined));
    return out;
  };

  return {
    get hasContent() {
      return hasContent;
    },
    open,
    push(event: JobEvent) {
      if (event.type === "tool_calls") return toolCalls(event);
      if (opts.jsonSchema) return [];
      if (event.type === "tool_use" || event.type === "tool_result") {
        afterTool = true;
        turnText = "";
        return [];
      }
      if (event.type !== "text" || event.delta === "") return [];
      const separator = afterTool && sentAny ? TURN_SEPARATOR : "";
      afterTool = false;
      sentAny = true;
      turnText += event.delta;
      return content(separator + event.delta);
    },
    finish(job: JobRecord) {
      const answer = answerOf(job, opts);
      // Events are not durable: if some were missed, send the part of the answer still missing.
      // A structured answer was never streamed: all of it is missing.
      const missing = opts.jsonSchema
        ? answer
        : answer.startsWith(turnText)
          ? answer.slice(turnText.length)
          : "";
      const out = [...open(), ...(missing ? content(missing) : [])];
      out.push(...emit(scanner.flush()));
      const stopSequence = scanner.stopped ? stopSequenceAt(raw, kept, opts.stop) : null;
      out.push(
        // The answer is one text block, even an empty one.
        ...startText(),
        { type: "content_block_stop", index: 0 },
        ...ending(stopReasonOf(job.result?.stopReason, stopSequence), stopSequence, job.usage),
      );
      return out;
    },
  };
}
