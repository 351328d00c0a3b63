import {
  ClaudeApiError,
  ClaudeAuthError,
  ClaudeBudgetExceededError,
  ClaudeCancelledError,
  ClaudeCrashedError,
  type ClaudeError,
  ClaudeExecutionError,
  ClaudeInvalidRequestError,
  ClaudeMaxTurnsError,
  ClaudeNotInstalledError,
  ClaudePromptTooLongError,
  ClaudeSessionNotFoundError,
  ClaudeStructuredOutputError,
  ClaudeTimeoutError,
} from "./errors.js";
import type { ResultEvent } from "./events.js";

/** Everything known about a finished process; the input of the pure classification. */
export interface ProcessEnd {
  exitCode: number | undefined;
  signal: string | undefined;
  result: ResultEvent | undefined;
  stderrTail: string;
  timedOut: boolean;
  timeoutMs?: number;
  cancelled: boolean;
  cancelReason?: string;
  spawnErrorCode?: string;
  /** The session the run was asked to resume, to name it in the error. */
  resumeId?: string;
  /** Why the output could not be parsed, when it could not. */
  outputProblem?: string;
  /** The run was given `--json-schema`: success needs `structured_output` in the result. */
  expectStructuredOutput?: boolean;
  /** The text of the run's last top-level API message (stream-json only). */
  lastMessageText?: string;
}

export type Outcome =
  | {
      ok: true;
      result: ResultEvent;
      /** The answer when the result line carries none (a reply finished as the budget ran out). */
      text?: string;
      /** `--max-budget-usd` was reached by the very message that finished the reply. */
      budgetCapReached?: boolean;
    }
  | { ok: false; error: ClaudeError };

const AUTH_TEXT =
  /not logged in|please run \/login|invalid api key|oauth token (has )?expired|authentication_error|failed to authenticate/i;
const NO_SESSION = /no conversation found with session id/i;
/** The API's 400 (`prompt is too long: N tokens > M maximum`) and the CLI's own wording of it. */
const PROMPT_TOO_LONG = /prompt is too long/i;
const PLACEHOLDER = /native binary not installed/i;
/** How the CLI refuses one of its arguments before starting: `Error: --flag …` on stderr, exit 1. */
const ARGUMENT_REFUSED = /^Error: (--[a-z][\w-]* .*)$/m;

/** Decides success or the typed failure of a run. Pure: every branch is table-tested. */
export function classifyOutcome(end: ProcessEnd): Outcome {
  const fail = (error: ClaudeError): Outcome => {
    if (end.result) error.result = end.result;
    if (end.stderrTail) error.stderrTail = end.stderrTail;
    return { ok: false, error };
  };
  if (
    end.spawnErrorCode === "ENOENT" ||
    end.spawnErrorCode === "EACCES" ||
    PLACEHOLDER.test(end.stderrTail)
  ) {
    return fail(
      new ClaudeNotInstalledError(
        `the claude binary is not installed or not executable (${end.spawnErrorCode ?? "placeholder binary"})`,
      ),
    );
  }
  // Our own clock and the caller's abort win over whatever the killed process printed.
  if (end.timedOut) return fail(new ClaudeTimeoutError(end.timeoutMs ?? 0));
  if (end.cancelled) return fail(new ClaudeCancelledError(end.cancelReason));

  const r = end.result;
  if (r) {
    if (!r.is_error && r.subtype === "success" && end.exitCode === 0) {
      if (end.expectStructuredOutput && r.structured_output === undefined) {
        return fail(
          new ClaudeStructuredOutputError(
            "the model answered without the structured output the JSON schema asks for",
          ),
        );
      }
      return { ok: true, result: r };
    }
    const text = [r.result ?? "", ...(r.errors ?? [])].join("\n");
    const status = r.api_error_status ?? null;
    if (status === 401 || status === 403 || (status === null && AUTH_TEXT.test(text))) {
      return fail(new ClaudeAuthError(firstLine(text) || "authentication failed", status));
    }
    if (
      r.terminal_reason === "prompt_too_long" ||
      ((status === null || status === 400 || status === 413) && r.is_error && PROMPT_TOO_LONG.test(text))
    ) {
      return fail(new ClaudePromptTooLongError(firstLine(text) || "the prompt is too long for the model"));
    }
    if (status !== null) return fail(new ClaudeApiError(firstLine(text) || `API error ${status}`, status));
    if (NO_SESSION.test(text)) return fail(new ClaudeSessionNotFoundError(end.resumeId ?? r.session_id));
    switch (r.subtype) {
      case "error_max_budget_usd":
        // The budget is checked after each API message: a reply whose last message ended the turn
        // is whole although it passed the cap. The credit is spent either way; keep the answer.
        if (r.stop_reason === "end_turn" && end.lastMessageText?.trim()) {
          return { ok: true, result: r, text: end.lastMessageText, budgetCapReached: true };
        }
        return fail(
          new ClaudeBudgetExceededError(firstLine(text) || "the run reached its budget (--max-budget-usd)"),
        );
      case "error_max_turns":
        return fail(new ClaudeMaxTurnsError(firstLine(text) || "the run reached its turn limit"));
      case "error_max_structured_output_retries":
        return fail(
          new ClaudeStructuredOutputError(
            firstLine(text) || "the model did not produce valid structured output in its retries",
          ),
        );
      case "error_during_execution":
        return fail(new ClaudeExecutionError(firstLine(text) || "error during execution"));
    }
    if (r.is_error) {
      // An API failure without a status: connection refused, reset or stream timeout.
      if (/api error|connection|timed? ?out|ECONN|fetch failed/i.test(text)) {
        return fail(new ClaudeApiError(firstLine(text), null));
      }
      return fail(new ClaudeExecutionError(firstLine(text) || `run failed (${r.subtype})`));
    }
    return fail(
      new ClaudeCrashedError(
        end.exitCode,
        end.signal,
        end.stderrTail,
        "a result was printed but the process failed",
      ),
    );
  }
  if (NO_SESSION.test(end.stderrTail)) return fail(new ClaudeSessionNotFoundError(end.resumeId));
  const refused = ARGUMENT_REFUSED.exec(end.stderrTail);
  if (refused?.[1]) return fail(new ClaudeInvalidRequestError(refused[1].slice(0, 500)));
  if (AUTH_TEXT.test(end.stderrTail)) return fail(new ClaudeAuthError(lastLine(end.stderrTail)));
  return fail(new ClaudeCrashedError(end.exitCode, end.signal, end.stderrTail, end.outputProblem));
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.slice(0, 500) ?? "";
}

function lastLine(s: string): string {
  return s.trim().split("\n").at(-1)?.slice(0, 500) ?? "";
}
