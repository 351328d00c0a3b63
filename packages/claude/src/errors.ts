import type { ResultEvent } from "./events.js";

/**
 * Every way a CLI run can fail, as one named class each. `code` is machine-readable and stable;
 * `retryable` tells a caller whether the same request may succeed later; `status` is what an HTTP
 * edge answers (the service cannot serve the request now: 503, unless the request itself is at
 * fault), and `detail` the one line a client may see.
 */
export abstract class ClaudeError extends Error {
  /** The concrete class's name: no subclass spells it again. */
  override readonly name: string = this.constructor.name;
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  readonly status: number = 503;
  get detail(): string {
    return this.message;
  }
  /** The CLI's result line when it printed one: cost and usage still count. */
  result?: ResultEvent;
  stderrTail?: string;
}

/** The base of a `ClaudeError` that is nothing but its data (`new X(message)`). */
function claudeError<const Code extends string>(code: Code, retryable: boolean, status = 503) {
  return class extends ClaudeError {
    readonly code = code;
    readonly retryable = retryable;
    override readonly status = status;
  };
}

/** The CLI has no valid credentials (no login, expired OAuth token, API 401/403). */
export class ClaudeAuthError extends ClaudeError {
  readonly code = "claude_not_authenticated";
  readonly retryable = false;
  constructor(
    message: string,
    /** The API's HTTP status (401, 403), or null when the CLI found no credentials at all. */
    readonly apiStatus: number | null = null,
  ) {
    super(message);
  }
}

export type ApiErrorKind = "rate_limited" | "overloaded" | "server_error" | "client_error" | "connection";

/** The Messages API failed after the CLI's own retries. */
export class ClaudeApiError extends ClaudeError {
  readonly code = "upstream_error";
  readonly kind: ApiErrorKind;
  readonly retryable: boolean;
  constructor(
    message: string,
    /** The API's HTTP status after the CLI's retries (429, 500, 529…), null for connection errors. */
    readonly apiStatus: number | null,
  ) {
    super(message);
    this.kind = apiErrorKind(apiStatus);
    this.retryable = this.kind !== "client_error";
  }
}

export function apiErrorKind(status: number | null): ApiErrorKind {
  if (status === null) return "connection";
  if (status === 429) return "rate_limited";
  if (status === 529) return "overloaded";
  if (status >= 500) return "server_error";
  return "client_error";
}

/** Our own wall-clock deadline passed; the process tree was stopped. */
export class ClaudeTimeoutError extends ClaudeError {
  readonly code = "timeout";
  readonly retryable = true;
  constructor(readonly timeoutMs: number) {
    super(`claude did not finish within ${timeoutMs} ms`);
  }
}

/** The caller aborted the run; the process tree was stopped. */
export class ClaudeCancelledError extends ClaudeError {
  readonly code = "cancelled";
  readonly retryable = false;
  constructor(reason?: string) {
    super(reason ? `run cancelled: ${reason}` : "run cancelled");
  }
}

/** `--resume` of a session the CLI cannot find under this cwd. */
export class ClaudeSessionNotFoundError extends ClaudeError {
  readonly code = "session_not_found";
  readonly retryable = false;
  constructor(readonly sessionId: string | undefined) {
    super(`no conversation found with session id ${sessionId ?? "(unknown)"}`);
  }
}

/** The run hit `--max-budget-usd`. */
export class ClaudeBudgetExceededError extends claudeError("budget_exceeded", false) {}

/** The run hit its turn limit. */
export class ClaudeMaxTurnsError extends claudeError("max_turns", false) {}

/** The CLI reported an error of its own during execution. */
export class ClaudeExecutionError extends claudeError("execution_error", false) {}

/**
 * The CLI refused an argument before any API call (e.g. `--json-schema` that is not a valid JSON
 * Schema: 2.1.2xx and later exit 1 with `Error: --json-schema is not a valid JSON Schema: …`).
 * The same request fails the same way again.
 */
export class ClaudeInvalidRequestError extends claudeError("invalid_request", false, 400) {}

/**
 * Structured output was asked for (`--json-schema`) and the run ended without it: the model
 * answered in prose even after the CLI's enforcement turn (the CLI still reports `success`), or
 * the CLI gave up (`error_max_structured_output_retries`).
 */
export class ClaudeStructuredOutputError extends claudeError("structured_output_missing", true) {}

/**
 * The prompt, with the session's history, the system prompt and the tools, is longer than the
 * model's context window. The API answers 400 `prompt is too long: N tokens > M maximum`; the CLI
 * (2.1.332) reports it as `is_error` with `terminal_reason: "prompt_too_long"` and
 * `api_error_status: 400`, and sends no second request. A prompt it estimates far past the window
 * it refuses itself, sending nothing: `result: "Prompt is too long"`, `terminal_reason:
 * "blocking_limit"`. The same request fails the same way again.
 */
export class ClaudePromptTooLongError extends claudeError("prompt_too_long", false, 400) {}

/** The binary is missing, or is the placeholder left when its install script did not run. */
export class ClaudeNotInstalledError extends claudeError("claude_not_installed", false) {}

/** The process ended without a usable result. */
export class ClaudeCrashedError extends ClaudeError {
  readonly code = "crashed";
  readonly retryable = true;
  constructor(
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    stderrTail: string,
    detail?: string,
  ) {
    const how = signal ? `killed by ${signal}` : `exit code ${exitCode ?? "unknown"}`;
    const tail = stderrTail.trim().split("\n").slice(-3).join(" | ");
    const summary = `claude crashed (${how})${detail ? `: ${detail}` : ""}`;
    super(`${summary}${tail ? `; stderr: ${tail}` : ""}`);
    this.summary = summary;
    this.stderrTail = stderrTail;
  }
  private readonly summary: string;
  /** Without the stderr tail: that stays in the logs. */
  override get detail(): string {
    return this.summary;
  }
}
