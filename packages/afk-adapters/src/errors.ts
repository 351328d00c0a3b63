/** The external systems the adapters talk to. */
export type System = "t3" | "forgejo" | "github" | "slack";

/** Base of every adapter failure: the tick logs it and exits non-zero. */
export class AdapterError extends Error {
  override readonly name: string = "AdapterError";
  constructor(
    readonly system: System,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${system}: ${message}`, options);
  }
}

/** The system answered with a non-2xx status. */
export class UpstreamHttpError extends AdapterError {
  override readonly name = "UpstreamHttpError";
  constructor(
    system: System,
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** The start of the response body (never a request header, so never a token). */
    readonly body: string,
  ) {
    super(system, `${method} ${path} answered ${status}: ${body.slice(0, 300)}`);
  }
}

/** The system could not be reached, or did not answer in time. */
export class UpstreamUnreachableError extends AdapterError {
  override readonly name = "UpstreamUnreachableError";
  constructor(system: System, method: string, path: string, cause: unknown) {
    super(system, `${method} ${path} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The system answered 2xx with a body that does not match the contract we were written against. */
export class UpstreamContractError extends AdapterError {
  override readonly name = "UpstreamContractError";
  constructor(
    system: System,
    readonly path: string,
    readonly issues: string[],
  ) {
    super(system, `${path} answered outside the contract: ${issues.slice(0, 5).join("; ")}`);
  }
}

/** A precondition the adapter checks itself (a label missing in the repository, a thread gone). */
export class AdapterPreconditionError extends AdapterError {
  override readonly name = "AdapterPreconditionError";
}
