import { ClaudeError } from "@claude-gateway/claude";
import type { JobFailureReason } from "@claude-gateway/contracts";
import type { FinishOutcome } from "./records.js";

const REASONS: Record<string, JobFailureReason> = {
  claude_not_authenticated: "claude_not_authenticated",
  claude_not_installed: "claude_not_installed",
  upstream_error: "upstream_error",
  budget_exceeded: "budget_exceeded",
  max_turns: "max_turns",
  session_not_found: "session_not_found",
  invalid_request: "invalid_request",
  prompt_too_long: "prompt_too_long",
  structured_output_missing: "structured_output_missing",
  execution_error: "execution_error",
  crashed: "crashed",
  timeout: "timeout",
  cancelled: "cancelled",
  invalid_invocation: "internal",
};

/** Maps a run's error to the job's terminal state and typed reason. */
export function failureOutcome(
  err: unknown,
): Extract<FinishOutcome, { status: "failed" | "timed_out" | "cancelled" }> {
  if (err instanceof ClaudeError) {
    const reason = REASONS[err.code] ?? "internal";
    const status = reason === "timeout" ? "timed_out" : reason === "cancelled" ? "cancelled" : "failed";
    const costUsd = err.result?.total_cost_usd;
    return { status, reason, message: err.message, ...(costUsd !== undefined ? { costUsd } : {}) };
  }
  const code = (err as { reason?: unknown })?.reason;
  if (code === "aborted" && (err as Error).name === "WorkspaceError") {
    // Stopped while waiting for space: the caller's cancel, not a workspace failure.
    return { status: "cancelled", reason: "cancelled", message: (err as Error).message };
  }
  if ((err as Error)?.name === "PayloadUnavailableError") {
    return { status: "failed", reason: "payload_unavailable", message: (err as Error).message };
  }
  if ((err as Error)?.name === "ToolResultsExpiredError") {
    return { status: "failed", reason: "tool_results_expired", message: (err as Error).message };
  }
  if ((err as Error)?.name === "InvalidImageError") {
    return { status: "failed", reason: "invalid_request", message: (err as Error).message };
  }
  if (typeof code === "string" && (err as Error).name === "WorkspaceError") {
    return { status: "failed", reason: "workspace_error", message: `${code}: ${(err as Error).message}` };
  }
  return { status: "failed", reason: "internal", message: err instanceof Error ? err.message : String(err) };
}
