import {
  isTerminal,
  type JobFailureReason,
  type JobRecord,
  type JobStatus,
  type JobSubmission,
  type PayloadRef,
  type PendingToolCalls,
  previewOf,
  type TokenUsage,
} from "@claude-gateway/contracts";

/** Pure state transitions of a job record: queued → running → succeeded | failed | timed_out | cancelled. */

export class InvalidTransitionError extends Error {
  override readonly name = "InvalidTransitionError";
  constructor(
    readonly from: JobStatus,
    readonly to: string,
  ) {
    super(`a ${from} job cannot become ${to}`);
  }
}

export function newJobRecord(input: {
  /** Minted by the executor. */
  id: string;
  submission: JobSubmission;
  model: string;
  caller: string;
  /** The caller-policy lease the job holds until it ends. */
  lease?: string;
  /** Names the queue message that may run it (`QueueMessage.token`). */
  queueToken?: string;
  now: Date;
}): JobRecord {
  const clientId = input.submission.id;
  return {
    id: input.id,
    ...(clientId !== undefined ? { clientId } : {}),
    status: "queued",
    agent: input.submission.agent,
    model: input.model,
    caller: input.caller,
    submission: input.submission,
    queuedAt: input.now.toISOString(),
    attempts: 0,
    ...(input.lease !== undefined ? { lease: input.lease } : {}),
    ...(input.queueToken !== undefined ? { queueToken: input.queueToken } : {}),
  };
}

/** The queue confirmed the message of `token`: a sweep leaves the job alone. */
export function markEnqueued(rec: JobRecord, token: string, now: Date): JobRecord {
  if (rec.status !== "queued" || rec.queueToken !== token) return rec;
  return { ...rec, enqueuedAt: now.toISOString() };
}

/** A queued job whose message is to be (re)published under a new token: older messages go stale. */
export function reissueToken(rec: JobRecord, token: string): JobRecord {
  if (rec.status !== "queued") throw new InvalidTransitionError(rec.status, "queued");
  const { enqueuedAt: _e, ...rest } = rec;
  return { ...rest, queueToken: token };
}

/**
 * A queued job no confirmed message carries — its submitter (or the replica that handed it back)
 * died between writing the record and publishing, or the publish failed — older than `graceMs`
 * (time for a submit in flight to finish). A sweep publishes it again.
 */
export function needsEnqueue(rec: JobRecord, now: Date, graceMs: number): boolean {
  if (rec.status !== "queued" || rec.queueToken === undefined || rec.enqueuedAt !== undefined) return false;
  return now.getTime() - Date.parse(rec.requeuedAt ?? rec.queuedAt) > graceMs;
}

/** Newest first (by when they were queued, then id), as `GET /jobs` pages them. */
export function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.queuedAt.localeCompare(a.queuedAt) || b.id.localeCompare(a.id);
}

/** One page of jobs already sorted newest first: up to `limit` after the job `after` (a cursor). */
export function pageOf(
  sorted: readonly JobRecord[],
  opts: { limit: number; after?: string },
): { jobs: JobRecord[]; next?: string } {
  const start = opts.after === undefined ? 0 : sorted.findIndex((j) => j.id === opts.after) + 1;
  const jobs = start === 0 && opts.after !== undefined ? [] : sorted.slice(start, start + opts.limit);
  const more = start + opts.limit < sorted.length && jobs.length === opts.limit;
  return more ? { jobs, next: jobs.at(-1)!.id } : { jobs };
}

export function startJob(rec: JobRecord, at: { executor: string; now: Date }): JobRecord {
  if (rec.status !== "queued") throw new InvalidTransitionError(rec.status, "running");
  return {
    ...rec,
    status: "running",
    startedAt: at.now.toISOString(),
    queueWaitMs: Math.max(0, at.now.getTime() - Date.parse(rec.queuedAt)),
    executor: at.executor,
    attempts: rec.attempts + 1,
  };
}

export type FinishOutcome =
  | {
      status: "succeeded";
      result: NonNullable<JobRecord["result"]>;
      costUsd: number;
      usage: TokenUsage;
    }
  | {
      status: "failed" | "timed_out" | "cancelled";
      reason: JobFailureReason;
      message: string;
      costUsd?: number;
      usage?: TokenUsage;
    };

export function finishJob(rec: JobRecord, outcome: FinishOutcome, now: Date): JobRecord {
  if (rec.status !== "running") throw new InvalidTransitionError(rec.status, outcome.status);
  const startedMs = Date.parse(rec.startedAt ?? rec.queuedAt);
  // Calls that waited for results end with the job.
  const { toolCalls: _pending, ...ended } = rec;
  const base: JobRecord = {
    ...ended,
    status: outcome.status,
    finishedAt: now.toISOString(),
    runMs: Math.max(0, now.getTime() - startedMs),
  };
  if (outcome.status === "succeeded") {
    return { ...base, result: outcome.result, costUsd: outcome.costUsd, usage: outcome.usage };
  }
  return {
    ...base,
    error: { reason: outcome.reason, message: outcome.message },
    ...(outcome.costUsd !== undefined ? { costUsd: outcome.costUsd } : {}),
    ...(outcome.usage !== undefined ? { usage: outcome.usage } : {}),
  };
}

/** A queued job cancelled before any replica started it. */
export function cancelQueuedJob(rec: JobRecord, reason: string, now: Date): JobRecord {
  if (rec.status !== "queued") throw new InvalidTransitionError(rec.status, "cancelled");
  return {
    ...rec,
    status: "cancelled",
    finishedAt: now.toISOString(),
    error: { reason: "cancelled", message: reason },
  };
}

/** NATS's default `max_payload` (1 MiB) less room for headers. */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024 - 8 * 1024;

/** A record's size on the bus (its JSON, UTF-8): NATS refuses a message over its `max_payload`. */
export function recordBytes(rec: JobRecord): number {
  return Buffer.byteLength(JSON.stringify(rec));
}

/** Whether the job's record with this end still fits on the bus. */
export function finishFits(rec: JobRecord, outcome: FinishOutcome, now: Date, maxBytes: number): boolean {
  return recordBytes(finishJob(rec, outcome, now)) <= maxBytes;
}

/** A record whose prompt lives in the payload store: it keeps the prompt's beginning and the reference. */
export function withPromptByRef(rec: JobRecord, ref: PayloadRef): JobRecord {
  const { promptRef: _fromGateway, ...submission } = rec.submission;
  return { ...rec, submission: { ...submission, prompt: previewOf(rec.submission.prompt) }, promptRef: ref };
}

/**
 * A record whose inline images (by index) live in the payload store: each keeps its media type
 * and names its object instead of carrying its data.
 */
export function withImagesByRef(rec: JobRecord, refs: ReadonlyMap<number, PayloadRef>): JobRecord {
  const images = rec.submission.images;
  if (!images || refs.size === 0) return rec;
  return {
    ...rec,
    submission: {
      ...rec.submission,
      images: images.map((image, i) => {
        const ref = refs.get(i);
        return ref === undefined ? image : { mediaType: image.mediaType, ref };
      }),
    },
  };
}

/**
 * A successful end whose reply lives in the payload store: its beginning and the reference. A
 * structured output leaves the record with it: the reply is that object's JSON text, so it is as
 * large, and whoever reads the reply whole has it (`wholeResult`).
 */
export function withResultByRef(outcome: FinishOutcome, ref: PayloadRef): FinishOutcome {
  if (outcome.status !== "succeeded") return outcome;
  const { structuredOutput: _inTheReply, ...result } = outcome.result;
  return { ...outcome, result: { ...result, text: previewOf(result.text), textRef: ref } };
}

/**
 * A recorded result with its whole reply (read from the payload store): `text` whole, and the
 * structured output of a job with a JSON schema back from that text, where the record left it out.
 */
export function wholeResult(
  result: NonNullable<JobRecord["result"]>,
  text: string,
  structured: boolean,
): NonNullable<JobRecord["result"]> {
  const whole = { ...result, text };
  if (!structured || result.structuredOutput !== undefined) return whole;
  try {
    return { ...whole, structuredOutput: JSON.parse(text) as unknown };
  } catch {
    return whole;
  }
}

/**
 * The job's end as it can be recorded: its outcome, or — when the record would be larger than the
 * bus carries (a reply of megabytes) — a failure saying so, with the run's spend kept.
 */
export function finishWithin(rec: JobRecord, outcome: FinishOutcome, now: Date, maxBytes: number): JobRecord {
  const finished = finishJob(rec, outcome, now);
  const bytes = recordBytes(finished);
  if (bytes <= maxBytes) return finished;
  return finishJob(
    rec,
    {
      status: "failed",
      reason: "result_too_large",
      message: `the job's record with its reply would be ${bytes} bytes, more than the bus carries (${maxBytes}); and the payload store did not take the reply`,
      ...(outcome.costUsd !== undefined ? { costUsd: outcome.costUsd } : {}),
      ...(outcome.usage !== undefined ? { usage: outcome.usage } : {}),
    },
    now,
  );
}

/** A cancel asked for while the job runs: the replica running it stops it (broadcast or heartbeat). */
export function requestCancel(rec: JobRecord, reason: string, now: Date): JobRecord {
  if (rec.status !== "running" || rec.cancelRequested) return rec;
  return { ...rec, cancelRequested: { at: now.toISOString(), reason } };
}

/** A running job pauses on the model's calls of the caller's tools. */
export function pauseOnToolCalls(rec: JobRecord, pending: PendingToolCalls): JobRecord {
  if (rec.status !== "running") throw new InvalidTransitionError(rec.status, "running");
  return { ...rec, toolCalls: pending };
}

/** The calls of the `tool_calls` event `seq` were answered (a later pause stays recorded). */
export function resumeFromToolCalls(rec: JobRecord, seq: number): JobRecord {
  if (rec.toolCalls?.seq !== seq) return rec;
  const { toolCalls: _answered, ...rest } = rec;
  return rest;
}

/** A running job whose replica disappeared: it is not re-run (agents have side effects). */
export function loseJob(rec: JobRecord, now: Date): JobRecord {
  if (rec.status !== "running") throw new InvalidTransitionError(rec.status, "failed");
  return finishJob(
    rec,
    {
      status: "failed",
      reason: "executor_lost",
      message: `executor ${rec.executor ?? "(unknown)"} stopped while running this job; it was not re-run because an agent's side effects may have happened`,
    },
    now,
  );
}

/**
 * A running job handed back to the queue by a replica that is shutting down before its CLI
 * started: nothing of it ran, so another replica runs it, under a new queue message (`token`).
 */
export function requeueJob(rec: JobRecord, token: string, now: Date): JobRecord {
  if (rec.status !== "running") throw new InvalidTransitionError(rec.status, "queued");
  const { startedAt: _s, queueWaitMs: _q, executor: _e, enqueuedAt: _n, ...rest } = rec;
  return { ...rest, status: "queued", queueToken: token, requeuedAt: now.toISOString() };
}

/**
 * How a running job ends whose replica shut down (its grace ran out) after its CLI started: like a
 * lost replica's, it is not re-run (an agent's side effects may have happened).
 */
export function executorStoppedOutcome(executor: string): {
  status: "failed";
  reason: JobFailureReason;
  message: string;
} {
  return {
    status: "failed",
    reason: "executor_stopped",
    message: `executor ${executor} shut down while running this job (its grace ran out); it was not re-run because an agent's side effects may have happened`,
  };
}

export type DeliveryDecision =
  | { action: "run" }
  /** Already finished or cancelled while queued: acknowledge and drop the message. */
  | { action: "skip"; why: string }
  /** Was running on a replica that is gone: mark it failed, acknowledge. */
  | { action: "lose" }
  /** No record (expired or never written): acknowledge and drop. */
  | { action: "drop"; why: string };

/** What a replica does with a job the queue delivered to it, by the message's `token`. */
export function decideDelivery(rec: JobRecord | null, token?: string): DeliveryDecision {
  if (rec === null) return { action: "drop", why: "no job record" };
  // A message the record no longer names (re-enqueued, handed back, or a retried submit's).
  if (rec.queueToken !== undefined && token !== rec.queueToken)
    return { action: "skip", why: "a stale queue message" };
  if (isTerminal(rec.status)) return { action: "skip", why: `job is already ${rec.status}` };
  if (rec.status === "running") return { action: "lose" };
  return { action: "run" };
}
