import type { JobEvent, JobRecord } from "@claude-gateway/contracts";
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
  usageOf,
} from "./message.js";

/** The Messages API's stream events (SDK 1.17's `RawMessageStreamEvent`), text only. */
export type MessageStreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  | { type: "content_block_start"; index: 0; content_block: { type: "text"; text: ""; citations: null } }
  | { type: "content_block_delta"; index: 0; delta: { type: "text_delta"; text: string } }
  | { type: "content_block_stop"; index: 0 }
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
 */
export function createMessageEncoder(
  ctx: MessageContext,
  opts: AnswerOptions,
): StreamEncoder<MessageStreamEvent> {
  const scanner = createStopScanner(opts.stop);
  let opened = false;
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
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "", citations: null } },
    ];
  };
  /** Text that passed the stop scanner. */
  const emit = (text: string): MessageStreamEvent[] => {
    if (text === "") return [];
    hasContent = true;
    kept += text.length;
    return [...open(), { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }];
  };
  const content = (text: string) => {
    raw += text;
    return emit(scanner.push(text));
  };

  return {
    get hasContent() {
      return hasContent;
    },
    open,
    push(event: JobEvent) {
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
      const usage = usageOf(job.usage);
      out.push(
        { type: "content_block_stop", index: 0 },
        {
          type: "message_delta",
          delta: {
            stop_reason: stopReasonOf(job.result?.stopReason, stopSequence),
            stop_sequence: stopSequence,
            stop_details: null,
            container: null,
          },
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
      );
      return out;
    },
  };
}
