import { type JobRecord, type JobSubmission, jobIdFor } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import type { Logger } from "pino";
import { toClientError } from "./core/errors.js";
import { type WatchItem, watchJob } from "./job-watch.js";
import type { CallerJobRef, Executor } from "./ports.js";

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
  const ref: CallerJobRef = { id: job.id, caller: submission.caller };
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
    watch: watchJob(executor, ref, events, { idleMs: opts.idleMs, signal: stop.signal }),
    settle: () => {
      settled = true;
    },
    close,
    abandon,
  };
}
