import type { JobEvent, JobRecord } from "@claude-gateway/contracts";
import type { GatewayError } from "../errors.js";
import type { JsonSchema } from "../structured.js";
import {
  answeredResponse,
  answerOf,
  failedResponse,
  functionCallItem,
  type OutputItem,
  type OutputMessage,
  type OutputText,
  outputMessage,
  pausedResponse,
  type ResponseObject,
  type ResponseShape,
  responseObject,
} from "./response.js";

/**
 * The Responses API's streaming events (the `openai` SDK's `ResponseStreamEvent`s this gateway
 * sends), each numbered by `sequence_number` in the order sent.
 */
export type ResponseStreamEvent = { sequence_number: number } & (
  | {
      type: "response.created" | "response.in_progress" | "response.completed" | "response.incomplete";
      response: ResponseObject;
    }
  | { type: "response.failed"; response: ResponseObject }
  | {
      type: "response.output_item.added" | "response.output_item.done";
      output_index: number;
      item: OutputItem;
    }
  | {
      type: "response.content_part.added" | "response.content_part.done";
      item_id: string;
      output_index: 0;
      content_index: 0;
      part: OutputText;
    }
  | {
      type: "response.output_text.delta";
      item_id: string;
      output_index: 0;
      content_index: 0;
      delta: string;
      logprobs: [];
    }
  | {
      type: "response.output_text.done";
      item_id: string;
      output_index: 0;
      content_index: 0;
      text: string;
      logprobs: [];
    }
  | { type: "response.function_call_arguments.delta"; item_id: string; output_index: number; delta: string }
  | {
      type: "response.function_call_arguments.done";
      item_id: string;
      output_index: number;
      name: string;
      arguments: string;
    }
  | {
      type: "error";
      code: string | null;
      message: string;
      param: string | null;
      /** OpenAI's own error events nest the error too, and that is what its SDKs raise. */
      error: { type: string; code: string | null; message: string; param: string | null };
    }
);

/** Text after tool activity starts a new paragraph: the agent's turns otherwise run together. */
const TURN_SEPARATOR = "\n\n";

/**
 * Turns a job's live events into Responses streaming events. Pure: the caller feeds events and
 * sends what comes back (a `StreamEncoder` of `job-stream.ts`).
 *
 * `response.created` and `response.in_progress` open the stream; the one output message and its
 * text part are added with the first text, then each text delta goes out as generated; the end is
 * `output_text.done`, `content_part.done`, `output_item.done` and `response.completed` (or
 * `response.incomplete` when the model was cut off). With a schema the agent's prose is not the
 * answer: nothing streams until the job ends, and then the structured output is the one delta.
 *
 * A job that pauses on calls of the caller's tools (a `tool_calls` event) ends the response there:
 * the message is closed, each call is added as a `function_call` item (its arguments in one delta)
 * and done, and `response.completed` holds them all.
 */
export interface ResponseEncoder {
  push(event: JobEvent): ResponseStreamEvent[];
  open(): ResponseStreamEvent[];
  finish(job: JobRecord): ResponseStreamEvent[];
  /**
   * A failure after the headers were sent: `response.failed` (what was said so far, and why it
   * stopped), then an `error` event, which the SDK raises: a client never takes a cut-off stream
   * for a whole answer.
   */
  fail(err: GatewayError): ResponseStreamEvent[];
  readonly hasContent: boolean;
}

type Body<T = ResponseStreamEvent> = T extends unknown ? Omit<T, "sequence_number"> : never;

export interface EncoderOptions {
  /** The job's id: the calls of its tools get ids that name it. */
  jobId: string;
  /** Structured output: the answer is the job's structured output, sent whole at the end. */
  schema?: JsonSchema | undefined;
}

export function createResponseEncoder(shape: ResponseShape, opts: EncoderOptions): ResponseEncoder {
  const { schema, jobId } = opts;
  const itemId = outputMessage(shape.uuid, "").id;
  let seq = 0;
  let opened = false;
  let started = false;
  let hasContent = false;
  let afterTool = false;
  /** Everything streamed as the message's text. */
  let text = "";
  /** The text of the agent's current turn as generated, to work out what the final answer lacks. */
  let turnText = "";

  const event = (body: Body): ResponseStreamEvent =>
    ({ ...body, sequence_number: seq++ }) as ResponseStreamEvent;
  const part = (t: string): OutputText => ({ type: "output_text", text: t, annotations: [] });
  const at = { item_id: itemId, output_index: 0, content_index: 0 } as const;

  const open = () => {
    if (opened) return [];
    opened = true;
    const response = responseObject(shape, { status: "in_progress" });
    return [event({ type: "response.created", response }), event({ type: "response.in_progress", response })];
  };
  const start = () => {
    if (started) return [];
    started = true;
    return [
      event({
        type: "response.output_item.added",
        output_index: 0,
        item: { ...outputMessage(shape.uuid, ""), status: "in_progress", content: [] },
      }),
      event({ type: "response.content_part.added", ...at, part: part("") }),
    ];
  };
  const delta = (d: string): ResponseStreamEvent[] => {
    if (d === "") return [];
    hasContent = true;
    text += d;
    return [
      ...open(),
      ...start(),
      event({ type: "response.output_text.delta", ...at, delta: d, logprobs: [] }),
    ];
  };

  /** The message's closing events (it is the first output item, when there is text). */
  const closeMessage = (status: OutputMessage["status"]): ResponseStreamEvent[] => [
    event({ type: "response.output_text.done", ...at, text, logprobs: [] }),
    event({ type: "response.content_part.done", ...at, part: part(text) }),
    event({
      type: "response.output_item.done",
      output_index: 0,
      item: outputMessage(shape.uuid, text, status),
    }),
  ];
  const toolCalls = (e: Extract<JobEvent, { type: "tool_calls" }>): ResponseStreamEvent[] => {
    // Events are not durable: send the part of the message's text that did not arrive as events.
    const missing = e.text.startsWith(turnText) ? e.text.slice(turnText.length) : "";
    const out = [...open(), ...(schema ? [] : delta(missing))];
    if (started) out.push(...closeMessage("completed"));
    const first = started ? 1 : 0;
    e.calls.forEach((call, i) => {
      const item = functionCallItem(jobId, call);
      const output_index = first + i;
      out.push(
        event({
          type: "response.output_item.added",
          output_index,
          item: { ...item, arguments: "", status: "in_progress" },
        }),
        event({
          type: "response.function_call_arguments.delta",
          item_id: item.id,
          output_index,
          delta: item.arguments,
        }),
        event({
          type: "response.function_call_arguments.done",
          item_id: item.id,
          output_index,
          name: item.name,
          arguments: item.arguments,
        }),
        event({ type: "response.output_item.done", output_index, item }),
      );
    });
    hasContent = true;
    const response = pausedResponse(shape, jobId, { calls: e.calls, text, at: e.at });
    out.push(event({ type: "response.completed", response }));
    return out;
  };

  return {
    get hasContent() {
      return hasContent;
    },
    open,
    push(e) {
      if (e.type === "tool_calls") return toolCalls(e);
      if (e.type === "tool_use" || e.type === "tool_result") {
        afterTool = true;
        turnText = "";
        return [];
      }
      if (e.type !== "text" || e.delta === "" || schema) return [];
      const separator = afterTool && text !== "" ? TURN_SEPARATOR : "";
      afterTool = false;
      turnText += e.delta;
      return delta(separator + e.delta);
    },
    finish(job) {
      const answer = answerOf(job, schema);
      // Events are not durable: send the part of the final answer that did not arrive as events.
      const missing = schema
        ? answer.text
        : answer.text.startsWith(turnText)
          ? answer.text.slice(turnText.length)
          : "";
      const out = [...open(), ...start(), ...delta(missing)];
      const response = answeredResponse(shape, job, { text, incomplete: answer.incomplete });
      out.push(
        ...closeMessage(answer.incomplete ? "incomplete" : "completed"),
        event({ type: answer.incomplete ? "response.incomplete" : "response.completed", response }),
      );
      return out;
    },
    fail(err) {
      const partial = started ? outputMessage(shape.uuid, text, "incomplete") : undefined;
      const error = { code: err.code, message: err.message, param: err.param };
      return [
        ...open(),
        event({ type: "response.failed", response: failedResponse(shape, err, partial) }),
        event({ type: "error", ...error, error: { type: err.type, ...error } }),
      ];
    },
  };
}
