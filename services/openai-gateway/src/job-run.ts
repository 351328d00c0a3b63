import { type JobRecord, type JobSubmission, jobIdFor, type ToolResult } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import type { Logger } from "pino";
import { InvalidRequestError, toClientError } from "./core/errors.js";
import { type WatchItem, watchJob } from "./job-watch.js";
import type { CallerJobRef, Executor, JobEvents } from "./ports.js";

/** One client request's job: its events, and the promise to cancel it if the client goes away. */
export interface JobRun {
  readonly job: JobRecord;
  readonly watch: AsyncGenerator<WatchItem, void>;
  /** The job's end was seen: a later disconnect has nothing to cancel. */
  settle(): void;
  /** Stops listening; idempotent. */
  close(): void;
  /** The client went away: stop listening and cancel the job unless it already ended. Idempotent. */
  abandon(): void;
}

export interface JobRunOptions {
  idleMs: number;
  /** The client's connection: aborted when it goes away. */
  signal: AbortSignal;
  logger: Logger;
  /** Receives the cancel call made on a disconnect, so shutdown can wait for it. */
  track(work: Promise<unknown>): void;
}

/**
 * Submits a job with its event subscription already open (the executor derives the job's id from
 * the caller and the id the gateway gives it), and cancels the job if the client disconnects
 * before the job ends. Every read and cancel names the caller the job was submitted for.
 * Executor failures are thrown as the client's error.
 */
export async function startJobRun(
  executor: Executor,
  submission: JobSubmission & { id: string; caller: string },
  opts: JobRunOptions,
): Promise<JobRun> {
  const events = executor.events(submission.caller, jobIdFor(submission.caller, submission.id));
  let job: JobRecord;
  try {
    job = await executor.submit(submission);
  } catch (err) {
    events.close();
    throw toClientError(err) ?? err;
  }
  return jobRun(executor, job, events, opts);
}

/**
 * Continues the caller's job paused on tool calls with the client's results: its events after
 * the pause are this request's answer. The results must be exactly the pending calls of a job of
 * this caller: anything else is a 400 naming what does not match (the executor's words).
 */
export async function continueJobRun(
  executor: Executor,
  toolResults: { jobId: string; caller: string; results: ToolResult[]; param: string },
  opts: JobRunOptions,
): Promise<JobRun> {
  const ref: CallerJobRef = { id: toolResults.jobId, caller: toolResults.caller };
  const refuse = (err: unknown): never => {
    if (err instanceof RemoteServiceError && [400, 404, 409].includes(err.status)) {
      const why = err.status === 404 ? `no job ${ref.id} of yours is waiting for tool results` : err.detail;
      throw new InvalidRequestError(
        `The tool results do not answer a pending tool call: ${why}.`,
        toolResults.param,
        err.status === 404 ? "tool_call_not_found" : err.code,
      );
    }
    throw toClientError(err) ?? err;
  };
  const job = await executor.get(ref).catch(refuse);
  const events = executor.events(ref.caller, ref.id);
  try {
    const { afterSeq } = await executor.supplyToolResults(ref, toolResults.results).catch(refuse);
    return jobRun(executor, job, events, opts, afterSeq);
  } catch (err) {
    events.close();
    throw err;
  }
}

function jobRun(
  executor: Executor,
  job: JobRecord,
  events: JobEvents,
  opts: JobRunOptions,
  afterSeq?: number,
): JobRun {
  const ref: CallerJobRef = { id: job.id, caller: job.caller };
  const stop = new AbortController();
  let settled = false;
  const close = () => {
    stop.abort();
    events.close();
  };

  const abandon = () => {
    close();
    if (settled) return;
    settled = true;
    opts.logger.info({ jobId: job.id }, "client disconnected; cancelling its job");
    opts.track(
      executor.cancel(ref).catch((err: unknown) => {
        // 409: it finished meanwhile; 404: it expired. Nothing left to stop either way.
        if (err instanceof RemoteServiceError && (err.status === 409 || err.status === 404)) return;
        opts.logger.warn({ jobId: job.id, err }, "could not cancel the job of a disconnected client");
      }),
    );
  };
  if (opts.signal.aborted) abandon();
  else opts.signal.addEventListener("abort", abandon, { once: true });
  stop.signal.addEventListener("abort", () => opts.signal.removeEventListener("abort", abandon), {
    once: true,
  });

  return {
    job,
    watch: watchJob(executor, ref, events, {
      idleMs: opts.idleMs,
      signal: stop.signal,
      ...(afterSeq !== undefined ? { afterSeq } : {}),
    }),
    settle: () => {
      settled = true;
    },
    close,
    abandon,
  };
}
