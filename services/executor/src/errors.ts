import { ServiceError } from "@claude-gateway/service-kit";

/**
 * The executor's failures, each a service error carrying its answer: rendered as the error
 * envelope in `app.onError` and, by the NATS endpoint helper, as a micro-service error.
 */
export { BadRequestError } from "@claude-gateway/service-kit";

export class JobNotFoundError extends ServiceError {
  override name = "JobNotFoundError";
  constructor(readonly jobId: string) {
    super(404, "job_not_found", `no job ${jobId}`);
  }
}

/** `--resume` of a session no job of this caller recorded (another caller's is not revealed). */
export class SessionNotFoundError extends ServiceError {
  override name = "SessionNotFoundError";
  constructor(readonly sessionId: string) {
    super(404, "session_not_found", `no session ${sessionId}`);
  }
}

/** REPO_ALLOWLIST does not name the repository a job asks for (`issues` says why, on `repo`). */
export class RepoNotAllowedError extends ServiceError {
  override name = "RepoNotAllowedError";
  constructor(why: string) {
    super(403, "repo_not_allowed", why, { issues: [{ path: "repo", message: why }] });
  }
}

export class JobFinishedError extends ServiceError {
  override name = "JobFinishedError";
  constructor(
    readonly jobId: string,
    readonly jobStatus: string,
  ) {
    super(409, "job_finished", `job ${jobId} is already ${jobStatus}`);
  }
}

export class QueueFullError extends ServiceError {
  override name = "QueueFullError";
  constructor(
    readonly depth: number,
    retryAfterSeconds: number,
  ) {
    super(429, "queue_full", `the queue holds ${depth} jobs, its limit; retry after ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }
}

export class UnavailableError extends ServiceError {
  override name = "UnavailableError";
  constructor(code: string, detail: string, options?: ErrorOptions) {
    super(503, code, detail, options ?? {});
  }
}

/** A job's prompt, kept in the payload store because of its size, could not be read. */
export class PayloadUnavailableError extends Error {
  override readonly name = "PayloadUnavailableError";
}

/** An image a job names by reference turned out not to be one it may send (read when the job runs). */
export class InvalidImageError extends Error {
  override readonly name = "InvalidImageError";
}

/** The model called the caller's tools and no results came within `TOOL_RESULTS_TIMEOUT_SECONDS`. */
export class ToolResultsExpiredError extends Error {
  override readonly name = "ToolResultsExpiredError";
}
