/**
 * The executor's failures, each carrying what the edge should answer. Mapped to HTTP in
 * `app.onError` and to NATS service errors by their `status`.
 */
export abstract class ExecutorError extends Error {
  abstract readonly status: 400 | 404 | 409 | 413 | 429 | 503;
  abstract readonly code: string;
}

export class BadRequestError extends ExecutorError {
  override readonly name = "BadRequestError";
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export class JobNotFoundError extends ExecutorError {
  override readonly name = "JobNotFoundError";
  readonly status = 404;
  readonly code = "job_not_found";
  constructor(readonly jobId: string) {
    super(`no job ${jobId}`);
  }
}

export class JobFinishedError extends ExecutorError {
  override readonly name = "JobFinishedError";
  readonly status = 409;
  readonly code = "job_finished";
  constructor(
    readonly jobId: string,
    readonly jobStatus: string,
  ) {
    super(`job ${jobId} is already ${jobStatus}`);
  }
}

export class QueueFullError extends ExecutorError {
  override readonly name = "QueueFullError";
  readonly status = 429;
  readonly code = "queue_full";
  constructor(
    readonly depth: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`the queue holds ${depth} jobs, its limit; retry after ${retryAfterSeconds} s`);
  }
}

export class UnavailableError extends ExecutorError {
  override readonly name = "UnavailableError";
  readonly status = 503;
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
