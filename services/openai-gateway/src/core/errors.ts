import type { AuthFailure } from "@claude-gateway/auth";
import type { JobRecord } from "@claude-gateway/contracts";
import {
  RemoteServiceError,
  RequestFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
} from "@claude-gateway/nats";

/** The error body every OpenAI client knows how to read. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export type ErrorStatus = 400 | 401 | 404 | 413 | 429 | 499 | 500 | 503 | 504;

/**
 * A failure with the answer it deserves: HTTP status and the OpenAI `type`, `param` and `code`.
 * Rendered in exactly one place (`app.onError`, or an SSE error event once a stream has begun).
 */
export abstract class GatewayError extends Error {
  abstract readonly status: ErrorStatus;
  abstract readonly type: string;
  abstract readonly code: string | null;
  readonly param: string | null = null;

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The request cannot be served as sent; `param` names the offending field. */
export class InvalidRequestError extends GatewayError {
  override readonly name = "InvalidRequestError";
  readonly status = 400;
  readonly type = "invalid_request_error";
  constructor(
    message: string,
    override readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

/** A model outside the allowlist: 400 on a completion (as the issue asks), 404 on `GET /v1/models/:id`. */
export class ModelNotFoundError extends GatewayError {
  override readonly name = "ModelNotFoundError";
  readonly type = "invalid_request_error";
  readonly code = "model_not_found";
  override readonly param = "model";
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

export class RouteNotFoundError extends GatewayError {
  override readonly name = "RouteNotFoundError";
  readonly status = 404;
  readonly type = "invalid_request_error";
  readonly code = "unknown_url";
  constructor(method: string, path: string) {
    super(`Invalid URL (${method} ${path})`);
  }
}

export class PayloadTooLargeError extends GatewayError {
  override readonly name = "PayloadTooLargeError";
  readonly status = 413;
  readonly type = "invalid_request_error";
  readonly code = "request_too_large";
  constructor(maxBytes: number) {
    super(`The request body is larger than ${maxBytes} bytes.`);
  }
}

export class AuthenticationError extends GatewayError {
  override readonly name = "AuthenticationError";
  readonly type: string;
  readonly code: string;
  constructor(
    message: string,
    readonly status: 401 | 503,
  ) {
    super(message);
    // OpenAI answers a bad key with `invalid_request_error` / `invalid_api_key`.
    this.type = status === 401 ? "invalid_request_error" : "api_error";
    this.code = status === 401 ? "invalid_api_key" : "auth_not_configured";
  }
}

/** The executor's queue is at its limit: the client should come back after `retryAfterSeconds`. */
export class QueueFullError extends GatewayError {
  override readonly name = "QueueFullError";
  readonly status = 429;
  // OpenAI names the kind of limit hit; ours is a count of waiting requests.
  readonly type = "requests";
  readonly code = "rate_limit_exceeded";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The executor could not be reached or failed to answer. */
export class UnavailableError extends GatewayError {
  override readonly name = "UnavailableError";
  readonly status = 503;
  readonly type = "api_error";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The job ran and did not succeed; `code` is its failure reason. */
export class JobFailedError extends GatewayError {
  override readonly name = "JobFailedError";
  readonly status = 503;
  readonly type = "api_error";
  constructor(
    readonly jobId: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class JobTimedOutError extends GatewayError {
  override readonly name = "JobTimedOutError";
  readonly status = 504;
  readonly type = "api_error";
  readonly code = "timeout";
  constructor(
    readonly jobId: string,
    message: string,
  ) {
    super(message);
  }
}

/** The client went away; nobody reads this answer, but logs and metrics do. */
export class ClientClosedError extends GatewayError {
  override readonly name = "ClientClosedError";
  readonly status = 499;
  readonly type = "invalid_request_error";
  readonly code = "client_closed_request";
  constructor() {
    super("The client closed the connection; its job was cancelled.");
  }
}

export class InternalError extends GatewayError {
  override readonly name = "InternalError";
  readonly status = 500;
  readonly type = "api_error";
  readonly code = "internal_error";
  constructor() {
    super("Internal error; see the gateway's logs.");
  }
}

/** When a full queue gives no wait of its own. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

/**
 * Maps a failed call to the executor (NATS) to what the client is told, or undefined for a bug of
 * ours. The one place where the services' error envelope (rebuilt by `request` as a
 * `RemoteServiceError`) becomes OpenAI's shape: decided by its status and code, never its text.
 */
export function fromExecutorError(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  if (err instanceof RemoteServiceError) {
    const detail = err.detail;
    if (err.status === 429) {
      const wait = err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return new QueueFullError(`The job queue is full: ${detail}`, wait, { cause: err });
    }
    if (err.code === "model_not_supported") return new ModelNotFoundError(detail);
    if (err.status === 400) {
      return new InvalidRequestError(`The executor refused the job: ${detail}`, null, "job_rejected");
    }
    if (err.status === 404)
      return new UnavailableError("job_not_found", `The job disappeared: ${detail}`, { cause: err });
    return new UnavailableError(
      "executor_error",
      `The executor failed (${err.status} ${err.code}): ${detail}`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof ServiceUnavailableError || err instanceof RequestFailedError) {
    return new UnavailableError("executor_unavailable", "No executor is available to run the request.", {
      cause: err,
    });
  }
  if (err instanceof RequestTimeoutError) {
    return new UnavailableError("executor_timeout", "The executor did not answer in time.", { cause: err });
  }
  return undefined;
}

/** A terminal job that did not succeed, as the client's error. */
export function fromFinishedJob(job: JobRecord): GatewayError {
  const reason = job.error?.reason ?? job.status;
  const detail = job.error?.message ? `: ${firstLine(job.error.message)}` : "";
  if (job.status === "timed_out") {
    return new JobTimedOutError(job.id, `The request timed out (${reason})${detail}`);
  }
  return new JobFailedError(job.id, reason, `The request failed (${reason})${detail}`);
}

export function fromAuthFailure(failure: AuthFailure): AuthenticationError {
  return new AuthenticationError(failure.message, failure.status);
}

/** A job's failure message can hold a CLI's multi-line output: the client gets its first line. */
export function firstLine(text: string, max = 300): string {
  const line = (text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
