/**
 * Breakglass's failures, each carrying the HTTP answer. Mapped to responses in exactly one place,
 * `app.onError`.
 */
export abstract class BreakglassError extends Error {
  abstract readonly status: 400 | 404 | 409 | 413 | 415 | 429 | 503;
  abstract readonly code: string;
  readonly issues?: Array<{ path: string; message: string }>;
}

export class BadRequestError extends BreakglassError {
  override readonly name = "BadRequestError";
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
    override readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export class UnsupportedMediaTypeError extends BreakglassError {
  override readonly name = "UnsupportedMediaTypeError";
  readonly status = 415;
  readonly code = "unsupported_media_type";
}

export class NotFoundError extends BreakglassError {
  override readonly name = "NotFoundError";
  readonly status = 404;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The resource is busy or in the wrong state: a turn already runs, a mutating verb runs, … */
export class ConflictError extends BreakglassError {
  override readonly name = "ConflictError";
  readonly status = 409;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class TooManyTurnsError extends BreakglassError {
  override readonly name = "TooManyTurnsError";
  readonly status = 429;
  readonly code = "too_many_turns";
  constructor(readonly limit: number) {
    super(`${limit} turns are running (the limit); stop one or wait`);
  }
}

/** SSH is not configured or could not be set up: the VM verbs cannot run. */
export class SshUnavailableError extends BreakglassError {
  override readonly name = "SshUnavailableError";
  readonly status = 503;
  readonly code = "ssh_unavailable";
  constructor(
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`the VM verbs are unavailable: ${reason}`, options);
  }
}
