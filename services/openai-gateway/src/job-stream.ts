import { isTerminal, type JobEvent, type JobRecord, type PendingToolCalls } from "@claude-gateway/contracts";
import type { SSEStreamingApi } from "hono/streaming";
import type { Logger } from "pino";
import {
  ClientClosedError,
  fromFinishedJob,
  type GatewayError,
  toClientError,
  UnavailableError,
} from "./core/errors.js";
import type { JobRun } from "./job-run.js";
import type { WatchItem } from "./job-watch.js";

/**
 * Turns a job's live events into one API's stream frames. Pure: the caller feeds events and sends
 * what comes back. Each API (chat completions, Messages, Responses) has its own.
 */
export interface StreamEncoder<Frame> {
  /** Frames for one event (none for most events but text). */
  push(event: JobEvent): Frame[];
  /** The opening frames, if not sent yet: for starting a stream before any content. */
  open(): Frame[];
  /**
   * The closing frames of a job that succeeded: whatever of the final answer did not arrive as
   * events, then the API's end. Throws the client's error for any other job.
   */
  finish(job: JobRecord): Frame[];
  /** True once any content frame was produced. */
  readonly hasContent: boolean;
}

/** How one API's stream goes over SSE. */
export interface StreamProtocol<Frame> {
  encoder: StreamEncoder<Frame>;
  write(sse: SSEStreamingApi, frame: Frame): Promise<void>;
  /** Sent after `idleMs` of silence: keeps proxies from closing a quiet stream. */
  keepAlive(sse: SSEStreamingApi): Promise<void>;
  /** After the last frame of a stream that succeeded (chat completions: `[DONE]`). */
  end?(sse: SSEStreamingApi): Promise<void>;
  /** A failure after the headers were sent: the API's own error event. */
  error(sse: SSEStreamingApi, err: GatewayError): Promise<void>;
}

/**
 * How a request's part of a job ends: the job's end (its record, of any status), or a pause on
 * the model's calls of the caller's tools (the client answers them in its next request).
 */
export type JobEnd = { job: JobRecord; paused?: undefined } | { paused: PendingToolCalls; job?: undefined };

/** Waits for the job's end or its pause on tool calls. */
export async function completeJob(run: JobRun, ended: () => void): Promise<JobEnd> {
  try {
    const end = await endOf(run.watch, ended);
    // Either way nothing is left to cancel when the client goes: the job ended, or it waits for
    // this client's results.
    run.settle();
    return end;
  } finally {
    run.close();
  }
}

async function endOf(watch: AsyncGenerator<WatchItem, void>, ended: () => void): Promise<JobEnd> {
  for await (const item of watch) {
    if (announcesEnd(item)) ended();
    if (item.type === "final") return { job: item.job };
    if (item.type === "tool_calls") return { paused: item.pending };
  }
  // The watch ends without a record only when the client went away.
  throw new ClientClosedError();
}

export interface Opening<Frame> {
  /** Frames produced while the headers waited. */
  buffered: Frame[];
  /** The job's record, if it ended (successfully) while the headers waited. */
  final: JobRecord | undefined;
  /** The job paused on tool calls while the headers waited (their frames are buffered). */
  paused?: PendingToolCalls;
  /** A read of the watch still in progress, carried into the stream. */
  pending: Promise<IteratorResult<WatchItem, void>> | undefined;
}

const HOLD_OVER = Symbol("hold over");

/**
 * Reads the job until its first content, its end, or `holdMs`; a failure before any content is
 * thrown (the client gets a real HTTP status for it).
 */
export async function holdForContent<Frame>(
  run: JobRun,
  encoder: StreamEncoder<Frame>,
  holdMs: number,
): Promise<Opening<Frame>> {
  const opening: Opening<Frame> = { buffered: [], final: undefined, pending: undefined };
  const deadline = performance.now() + holdMs;
  try {
    while (!encoder.hasContent && !opening.final && !opening.paused) {
      opening.pending ??= run.watch.next();
      const r = await beforeDeadline(opening.pending, deadline - performance.now());
      if (r === HOLD_OVER) break;
      opening.pending = undefined;
      if (r.done) throw new ClientClosedError();
      const item = r.value;
      if (item.type === "event") opening.buffered.push(...encoder.push(item.event));
      if (item.type === "tool_calls") {
        run.settle();
        opening.paused = item.pending;
        opening.buffered.push(...encoder.push(toolCallsEvent(run, item.pending)));
      }
      if (item.type === "final") {
        run.settle();
        if (item.job.status !== "succeeded") throw fromFinishedJob(item.job);
        opening.final = item.job;
      }
    }
    return opening;
  } catch (err) {
    run.close();
    throw err;
  }
}

/** Sends the stream: what was held, then live frames, then the end. Returns the outcome for metrics. */
export async function pumpStream<Frame>(
  sse: SSEStreamingApi,
  run: JobRun,
  opening: Opening<Frame>,
  protocol: StreamProtocol<Frame>,
  hooks: {
    log: Logger;
    firstContent: () => void;
    /** The job is over: called before the closing frames (or the error) are sent. */
    ended: () => Promise<void>;
    /** The job paused on the caller's tool calls: called before their frames are sent. */
    paused?: () => void;
  },
): Promise<string> {
  const { encoder } = protocol;
  const send = (frame: Frame) => protocol.write(sse, frame);
  let final = opening.final;
  let pending = opening.pending;
  try {
    for (const frame of [...opening.buffered, ...encoder.open()]) await send(frame);
    if (opening.paused) {
      hooks.paused?.();
      await protocol.end?.(sse);
      return "tool_calls";
    }
    while (!final) {
      pending ??= run.watch.next();
      const r = await pending;
      pending = undefined;
      if (r.done) return "client_closed";
      const item = r.value;
      if (item.type === "event") {
        if (announcesEnd(item)) void hooks.ended();
        const hadContent = encoder.hasContent;
        for (const frame of encoder.push(item.event)) await send(frame);
        if (!hadContent && encoder.hasContent) hooks.firstContent();
      } else if (item.type === "idle") {
        await protocol.keepAlive(sse);
      } else if (item.type === "tool_calls") {
        // The model called the caller's tools: this response ends with them; the job waits.
        run.settle();
        hooks.paused?.();
        const hadContent = encoder.hasContent;
        for (const frame of encoder.push(toolCallsEvent(run, item.pending))) await send(frame);
        if (!hadContent && encoder.hasContent) hooks.firstContent();
        await protocol.end?.(sse);
        return "tool_calls";
      } else {
        final = item.job;
        run.settle();
      }
    }
    await hooks.ended();
    for (const frame of encoder.finish(final)) await send(frame);
    await protocol.end?.(sse);
    return "succeeded";
  } catch (err) {
    // The headers are gone: the error travels as the API's error event, which its clients raise.
    const known = toClientError(err);
    if (!known) hooks.log.error({ err }, "stream failed");
    const error =
      known ?? new UnavailableError("stream_failed", "The stream failed; see the gateway's logs.");
    hooks.log.warn({ code: error.code, status: error.status }, "stream ended with an error event");
    if (!sse.aborted) await protocol.error(sse, error);
    return outcomeOf(error);
  } finally {
    run.close();
  }
}

/** A pause as the `tool_calls` event an encoder takes (also when it was read from the record). */
function toolCallsEvent(run: JobRun, pending: PendingToolCalls): JobEvent {
  const { calls, text, seq, at, expiresAt } = pending;
  return { type: "tool_calls", jobId: run.job.id, seq, at, calls, text, expiresAt };
}

/** The job's terminal status: it is over (its record is read next). */
function announcesEnd(item: WatchItem): boolean {
  return item.type === "event" && item.event.type === "status" && isTerminal(item.event.status);
}

function beforeDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof HOLD_OVER> {
  if (ms <= 0) return Promise.resolve(HOLD_OVER);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<typeof HOLD_OVER>((resolve) => {
      timer = setTimeout(() => resolve(HOLD_OVER), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The metrics label of a request that did not succeed. */
export function outcomeOf(err: unknown): string {
  if (err instanceof ClientClosedError) return "client_closed";
  const known = toClientError(err);
  return known ? (known.code ?? known.type) : "internal_error";
}
