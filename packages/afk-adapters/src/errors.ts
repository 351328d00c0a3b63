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

/**
 * The system answered 2xx with a body that does not match the contract we were written against:
 * `t3: GET /api/… answered outside the contract: thread.latestTurn.state: expected one of …`.
 */
export class UpstreamContractError extends AdapterError {
  override readonly name: string = "UpstreamContractError";
  constructor(
    system: System,
    readonly method: string,
    readonly path: string,
    /** `<field path>: <what the contract expects>`, one per rejected field. */
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(
      system,
      `${method} ${path} answered outside the contract: ${issues.slice(0, 5).join("; ")}`,
      options,
    );
  }
}

/** A 2xx whose body is not JSON at all (a web app's HTML page, a proxy's login form). */
export class UpstreamNotJsonError extends UpstreamContractError {
  override readonly name: string = "UpstreamNotJsonError";
  constructor(system: System, method: string, path: string, contentType: string | null, body: string) {
    const start = body.replace(/\s+/g, " ").trim().slice(0, 80);
    super(system, method, path, [`body is not JSON (${contentType ?? "no content type"}): ${start}`]);
  }
}

/**
 * A T3 thread that cannot be read: its endpoint gave no JSON answer (none before v0.0.29, a web
 * app's page, a redirect, a 503), and the snapshot, which carries no messages from v0.0.32 on,
 * cannot stand in. Off-contract, like an answer the schemas reject.
 */
export class T3ThreadUnreadableError extends UpstreamContractError {
  override readonly name: string = "T3ThreadUnreadableError";
  constructor(path: string, why: string, cause: AdapterError) {
    const instead = "the snapshot carries no messages for the thread (v0.0.32+), so it cannot stand in";
    super("t3", "GET", path, [why, instead], { cause });
  }
}

/** A precondition the adapter checks itself (a label missing in the repository, a thread gone). */
export class AdapterPreconditionError extends AdapterError {
  override readonly name = "AdapterPreconditionError";
}
