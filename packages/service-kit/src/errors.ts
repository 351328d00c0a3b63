import { type ErrorEnvelope, type ErrorIssue, ModelNotSupportedError } from "@claude-gateway/contracts";

/** The wire types of the envelope, for callers that do not depend on contracts themselves. */
export type { ErrorEnvelope, ErrorIssue };

export interface ServiceErrorOptions extends ErrorOptions {
  /** The caller may try again after this many seconds (HTTP `Retry-After`). */
  retryAfterSeconds?: number;
  /** Per-field problems of a rejected request. */
  issues?: readonly ErrorIssue[];
}

/**
 * A failure that carries its answer: the HTTP status (also the NATS service-error code), a stable
 * `code`, a one-line `detail`, and optionally when to retry and what was wrong with the request.
 * Every service's errors extend it; `errorBody` renders it, over HTTP and over NATS alike.
 */
export class ServiceError extends Error {
  override name = "ServiceError";
  readonly retryAfterSeconds?: number;
  readonly issues?: readonly ErrorIssue[];
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    options: ServiceErrorOptions = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.issues !== undefined) this.issues = options.issues;
  }

  /** The message as one clipped line, safe to show a client. */
  get detail(): string {
    return oneLine(this.message);
  }
}

/** The request is at fault (400): `code` says how, `issues` which fields. */
export class BadRequestError extends ServiceError {
  override name = "BadRequestError";
  constructor(code: string, detail: string, issues?: readonly ErrorIssue[]) {
    super(400, code, detail, issues ? { issues } : {});
  }
}

/** The envelope `{error, detail, retry_after_seconds?, issues?}` of a service error. */
export function errorBody(err: ServiceError): ErrorEnvelope {
  return {
    error: err.code,
    detail: err.detail,
    ...(err.retryAfterSeconds !== undefined ? { retry_after_seconds: err.retryAfterSeconds } : {}),
    ...(err.issues !== undefined && err.issues.length > 0 ? { issues: [...err.issues] } : {}),
  };
}

/**
 * Any thrown value as the service error the edge answers with. Errors of other packages that
 * carry their own answer (an integer `status` 400–599 and a string `code`, such as the claude
 * package's) keep it, and their `detail` if they have one (so a crash's stderr stays in the logs);
 * anything else is a 500 `internal` whose detail says nothing about it.
 */
export function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof ModelNotSupportedError) {
    return new ServiceError(400, err.code, err.message, { cause: err });
  }
  if (err instanceof Error) {
    const { status, code, detail, retryAfterSeconds } = err as Error & {
      status?: unknown;
      code?: unknown;
      detail?: unknown;
      retryAfterSeconds?: unknown;
    };
    if (isErrorStatus(status) && typeof code === "string" && code !== "") {
      return new ServiceError(status, code, typeof detail === "string" ? detail : err.message, {
        cause: err,
        ...(typeof retryAfterSeconds === "number" ? { retryAfterSeconds } : {}),
      });
    }
  }
  // NATS (core, JetStream, KV, object store) gone or not answering: the store, not our code, failed.
  if (err instanceof Error && STORE_UNAVAILABLE.has(err.name)) {
    return new ServiceError(503, "store_unavailable", `NATS did not answer: ${err.message}`, {
      cause: err,
      retryAfterSeconds: 1,
    });
  }
  return new ServiceError(500, "internal", "internal error; see the service's logs", { cause: err });
}

/**
 * The names of the NATS client's transport errors (`@nats-io/nats-core` and `@nats-io/jetstream`
 * set them): a request that timed out, a connection closed, draining or reconnecting, no
 * responders, a JetStream API that could not answer. Each is a 503 with `Retry-After`, never a 500.
 */
const STORE_UNAVAILABLE = new Set([
  "TimeoutError",
  "ClosedConnectionError",
  "DrainingConnectionError",
  "ConnectionError",
  "RequestError",
  "NoResponders",
  "JetStreamNotEnabled",
  "JetStreamError",
  "JetStreamStatusError",
  "JetStreamApiError",
  "StreamNotFoundError",
  "ConsumerNotFoundError",
]);

function isErrorStatus(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 400 && value <= 599;
}

/** Text as one line (whitespace runs folded), clipped to `max` characters. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A configuration that cannot start the process: every problem listed, never the first alone. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly problems: readonly string[],
    what = "configuration",
  ) {
    super(`invalid ${what}:\n- ${problems.join("\n- ")}`);
  }
}
