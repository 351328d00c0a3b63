import type { AuthFailure } from "@claude-gateway/auth";
import type { JobRecord } from "@claude-gateway/contracts";
import {
  KvUpdateConflictError,
  RemoteServiceError,
  RequestFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
} from "@claude-gateway/nats";
import { ServiceError, toServiceError } from "@claude-gateway/service-kit";

/** The error body every OpenAI client knows how to read. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export type ErrorStatus = 400 | 401 | 403 | 404 | 413 | 429 | 499 | 500 | 501 | 503 | 504;

/** What a client is told besides the message: HTTP status and OpenAI's `type`, `param` and `code`. */
export interface ErrorAnswer {
  status: ErrorStatus;
  type: string;
  code: string | null;
  param?: string | null;
}

/**
 * A failure with the answer it deserves. Rendered in exactly one place (`app.onError`, or an SSE
 * error event once a stream has begun).
 */
export abstract class GatewayError extends Error {
  readonly status: ErrorStatus;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;

  constructor(message: string, answer: ErrorAnswer, options?: ErrorOptions) {
    super(message, options);
    this.status = answer.status;
    this.type = answer.type;
    this.code = answer.code;
    this.param = answer.param ?? null;
  }

  body(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The request cannot be served as sent; `param` names the offending field. */
export class InvalidRequestError extends GatewayError {
  override readonly name = "InvalidRequestError";
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(message, { status: 400, type: "invalid_request_error", code, param });
  }
}

/** A model outside the allowlist: 400 on a completion (as the issue asks), 404 on `GET /v1/models/:id`. */
export class ModelNotFoundError extends GatewayError {
  override readonly name = "ModelNotFoundError";
  constructor(message: string, status: 400 | 404 = 400) {
    super(message, { status, type: "invalid_request_error", code: "model_not_found", param: "model" });
  }
}

export class RouteNotFoundError extends GatewayError {
  override readonly name = "RouteNotFoundError";
  constructor(method: string, path: string) {
    super(`Invalid URL (${method} ${path})`, {
      status: 404,
      type: "invalid_request_error",
      code: "unknown_url",
    });
  }
}

/** The job the request makes is larger than the bus (or the executor's record) carries. */
export class PromptTooLargeError extends GatewayError {
  override readonly name = "PromptTooLargeError";
  constructor(detail: string, options?: ErrorOptions) {
    super(
      `The prompt is too large: ${detail}`,
      { status: 413, type: "invalid_request_error", code: "prompt_too_large" },
      options,
    );
  }
}

export class PayloadTooLargeError extends GatewayError {
  override readonly name = "PayloadTooLargeError";
  constructor(maxBytes: number) {
    super(`The request body is larger than ${maxBytes} bytes.`, {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
    });
  }
}

export class AuthenticationError extends GatewayError {
  override readonly name = "AuthenticationError";
  constructor(message: string, status: 401 | 503) {
    super(
      message,
      // OpenAI answers a bad key with `invalid_request_error` / `invalid_api_key`.
      status === 401
        ? { status, type: "invalid_request_error", code: "invalid_api_key" }
        : { status, type: "api_error", code: "auth_not_configured" },
    );
  }
}

/** The executor's queue is at its limit: the client should come back after `retryAfterSeconds`. */
export class QueueFullError extends GatewayError {
  override readonly name = "QueueFullError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    // OpenAI names the kind of limit hit; ours is a count of waiting requests.
    super(message, { status: 429, type: "requests", code: "rate_limit_exceeded" }, options);
  }
}

/**
 * The caller's policy does not let it use the agent or model asked for (`agent_not_allowed`,
 * `model_not_allowed`; the message lists what it may use). OpenAI SDKs raise `PermissionDeniedError`.
 */
export class PermissionDeniedError extends GatewayError {
  override readonly name = "PermissionDeniedError";
  constructor(code: string, message: string, param: string | null, options?: ErrorOptions) {
    // OpenAI's own 403s (e.g. an unsupported region) are typed `request_forbidden`.
    super(message, { status: 403, type: "request_forbidden", code, param }, options);
  }
}

/** Why a caller's request was turned away by its policy's limits, and OpenAI's `type` for it. */
const CALLER_LIMITS: Record<string, string> = {
  rate_limited: "requests",
  too_many_in_flight: "requests",
  // OpenAI's "you exceeded your current quota" is `insufficient_quota`.
  daily_budget_exceeded: "insufficient_quota",
};

/**
 * The caller is over a limit of its policy (`rate_limited`, `too_many_in_flight`,
 * `daily_budget_exceeded`): come back after `retryAfterSeconds`. OpenAI SDKs raise `RateLimitError`.
 */
export class CallerLimitError extends GatewayError {
  override readonly name = "CallerLimitError";
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, { status: 429, type: CALLER_LIMITS[code] ?? "requests", code }, options);
  }

  /**
   * SDKs retry a 429 on their own: worth it within a minute, not for a budget that resets at
   * midnight (`x-should-retry: false` stops them).
   */
  get worthRetrying(): boolean {
    return this.code !== "daily_budget_exceeded";
  }
}

/**
 * The Claude subscription every request spends is at its usage limit (`plan_limit_reached`): no
 * request of anyone's is served before `retryAfterSeconds`. OpenAI SDKs raise `RateLimitError`.
 */
export class PlanLimitError extends GatewayError {
  override readonly name = "PlanLimitError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    // OpenAI's "you exceeded your current quota": the plan's allowance is used up until its reset.
    super(message, { status: 429, type: "insufficient_quota", code: "plan_limit_reached" }, options);
  }

  /** SDKs retry a 429 on their own: worth it for the last minute of a window, not for hours. */
  get worthRetrying(): boolean {
    return this.retryAfterSeconds <= 60;
  }
}

/** The executor could not be reached or failed to answer. */
export class UnavailableError extends GatewayError {
  override readonly name = "UnavailableError";
  /** Set when a retry soon is worth it (NATS away for a moment): sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;
  constructor(code: string, message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(message, { status: 503, type: "api_error", code }, options);
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Job failures a second try may get past: the upstream, a lost replica, a crash, a bad answer. */
const TRANSIENT_JOB_FAILURES: ReadonlySet<string> = new Set([
  "upstream_error",
  "executor_lost",
  "executor_stopped",
  "crashed",
  "internal",
  "payload_unavailable",
  "structured_output_missing",
]);

/** The job ran and did not succeed; `code` is its failure reason. */
export class JobFailedError extends GatewayError {
  override readonly name = "JobFailedError";
  constructor(
    readonly jobId: string,
    code: string,
    message: string,
  ) {
    super(message, { status: 503, type: "api_error", code });
  }

  /**
   * SDKs retry a 5xx on their own, each retry a whole run: worth it for a transient failure, not for
   * one that would fail the same way (over budget, out of turns, not logged in; `x-should-retry: false`).
   */
  get worthRetrying(): boolean {
    return TRANSIENT_JOB_FAILURES.has(this.code ?? "");
  }
}

export class JobTimedOutError extends GatewayError {
  override readonly name = "JobTimedOutError";
  constructor(
    readonly jobId: string,
    message: string,
  ) {
    super(message, { status: 504, type: "api_error", code: "timeout" });
  }
}

/** The client went away; nobody reads this answer, but logs and metrics do. */
export class ClientClosedError extends GatewayError {
  override readonly name = "ClientClosedError";
  constructor() {
    super("The client closed the connection; its job was cancelled.", {
      status: 499,
      type: "invalid_request_error",
      code: "client_closed_request",
    });
  }
}

export class InternalError extends GatewayError {
  override readonly name = "InternalError";
  constructor() {
    super("Internal error; see the gateway's logs.", {
      status: 500,
      type: "api_error",
      code: "internal_error",
    });
  }
}

/** The gate's code for the plan at its limit (`PlanLimitReachedError`). */
const PLAN_LIMIT_REACHED = "plan_limit_reached";

/** When a full queue gives no wait of its own. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

/**
 * Maps a failure to what the client is told, or undefined for a bug of ours. The one place where
 * the caller policy's decisions and the services' error envelope (rebuilt by `request` as a
 * `RemoteServiceError`) become OpenAI's shape: decided by status and code, never by text.
 */
export function toClientError(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  if (err instanceof ServiceError) {
    // The policy's 403/429, from the gate here or from the executor's own check.
    const detail = err.detail;
    // Larger than the bus carries (refused before sending) or than the executor records.
    if (err.status === 413) return new PromptTooLargeError(detail, { cause: err });
    if (err.status === 403) {
      const param = err.code === "model_not_allowed" ? "model" : null;
      return new PermissionDeniedError(err.code, detail, param, { cause: err });
    }
    if (err.status === 429 && err.code in CALLER_LIMITS) {
      const wait = err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return new CallerLimitError(err.code, detail, wait, { cause: err });
    }
  }
  // The plan at its limit: from the gate here, or from an executor's own check (a remote error).
  if (err instanceof ServiceError && err.status === 429 && err.code === PLAN_LIMIT_REACHED) {
    return new PlanLimitError(
      `The service's Claude plan is at its usage limit: ${err.detail}`,
      err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
      { cause: err },
    );
  }
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
    // The gateway reads and cancels only jobs it submitted for this caller: not finding one is the
    // executor losing it (or refusing this caller), not the client asking for the wrong thing.
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
  // The caller policy's counters (one key per caller) changed under every attempt to count this
  // request: a burst of the caller's own requests at once. A moment later one passes.
  if (err instanceof KvUpdateConflictError) {
    return new CallerLimitError(
      "too_many_concurrent_requests",
      `Too many of your requests arrived at once; retry after ${err.retryAfterSeconds} s.`,
      err.retryAfterSeconds,
      { cause: err },
    );
  }
  // NATS itself away (the policy's counters, the payload store): the bus failed, not our code.
  const asService = toServiceError(err);
  if (asService.code === "store_unavailable") {
    return new UnavailableError(
      "store_unavailable",
      "The gateway's store (NATS) did not answer; retry shortly.",
      {
        cause: err,
        retryAfterSeconds: asService.retryAfterSeconds ?? 1,
      },
    );
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
  // The model's context cannot hold the conversation: the request must change, not be retried.
  if (reason === "prompt_too_long") {
    return new InvalidRequestError(
      `The conversation is longer than the model's context window${detail}`,
      "messages",
      "context_length_exceeded",
    );
  }
  // The CLI refused the request before any API call (e.g. a JSON schema it cannot use).
  if (reason === "invalid_request") {
    return new InvalidRequestError(`The request was refused${detail}`, null, "invalid_request");
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
