import { ServiceError } from "@claude-gateway/service-kit";

/**
 * Breakglass's failures, each a service error carrying its answer: rendered as the error envelope
 * in exactly one place, `app.onError` (and in a verb's body once its stream has started). The
 * claude package's errors carry their own answer (503, a client-safe detail).
 */
export { BadRequestError } from "@claude-gateway/service-kit";

export class BodyTooLargeError extends ServiceError {
  override name = "BodyTooLargeError";
  constructor(readonly maxBytes: number) {
    super(413, "body_too_large", `the body is over ${maxBytes} bytes`);
  }
}

/** A cookie-authenticated (Authentik) state-changing request from another site's page. */
export class CrossSiteRequestError extends ServiceError {
  override name = "CrossSiteRequestError";
  constructor(detail: string) {
    super(403, "cross_site_request", detail);
  }
}

export class NotFoundError extends ServiceError {
  override name = "NotFoundError";
  constructor(code: string, detail: string) {
    super(404, code, detail);
  }
}

/** The resource is busy or in the wrong state: a turn already runs, a mutating verb runs, … */
export class ConflictError extends ServiceError {
  override name = "ConflictError";
  constructor(code: string, detail: string) {
    super(409, code, detail);
  }
}

/**
 * When a client over the turn cap should try again. Turns take minutes, so this is only a polite
 * pace for a retry loop, not a promise that a slot is free by then.
 */
export const TOO_MANY_TURNS_RETRY_AFTER_SECONDS = 10;

export class TooManyTurnsError extends ServiceError {
  override name = "TooManyTurnsError";
  constructor(
    readonly limit: number,
    retryAfterSeconds = TOO_MANY_TURNS_RETRY_AFTER_SECONDS,
  ) {
    super(429, "too_many_turns", `${limit} turns are running (the limit); stop one or wait`, {
      retryAfterSeconds,
    });
  }
}

/** SSH is not configured or could not be set up: the VM verbs cannot run. */
export class SshUnavailableError extends ServiceError {
  override name = "SshUnavailableError";
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(503, "ssh_unavailable", `the VM verbs are unavailable: ${reason}`, options ?? {});
  }
}
