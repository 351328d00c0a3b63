import {
  ClaudeApiError,
  ClaudeAuthError,
  ClaudeBudgetExceededError,
  ClaudeCancelledError,
  ClaudeCrashedError,
  ClaudeInvalidRequestError,
  ClaudePromptTooLongError,
  ClaudeSessionNotFoundError,
  ClaudeStructuredOutputError,
  ClaudeTimeoutError,
} from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { ToolResultsExpiredError } from "../errors.js";
import { failureOutcome } from "./failure.js";

describe("failureOutcome", () => {
  it.each<[string, unknown, string, string]>([
    ["timeout", new ClaudeTimeoutError(1000), "timed_out", "timeout"],
    ["cancel", new ClaudeCancelledError("x"), "cancelled", "cancelled"],
    ["auth", new ClaudeAuthError("no login"), "failed", "claude_not_authenticated"],
    ["429", new ClaudeApiError("rate", 429), "failed", "upstream_error"],
    ["budget", new ClaudeBudgetExceededError("over"), "failed", "budget_exceeded"],
    ["resume", new ClaudeSessionNotFoundError("s"), "failed", "session_not_found"],
    ["crash", new ClaudeCrashedError(1, undefined, ""), "failed", "crashed"],
    ["schema refused", new ClaudeInvalidRequestError("--json-schema is not…"), "failed", "invalid_request"],
    ["context", new ClaudePromptTooLongError("Prompt is too long"), "failed", "prompt_too_long"],
    ["prose", new ClaudeStructuredOutputError("no object"), "failed", "structured_output_missing"],
    [
      "the caller's tool results did not come",
      new ToolResultsExpiredError("the model's calls of get_weather waited 300 s"),
      "failed",
      "tool_results_expired",
    ],
    [
      "an image by reference that is none",
      Object.assign(new Error("images.0: not an image"), { name: "InvalidImageError" }),
      "failed",
      "invalid_request",
    ],
    [
      "workspace",
      Object.assign(new Error("no key"), { name: "WorkspaceError", reason: "git_crypt_key_missing" }),
      "failed",
      "workspace_error",
    ],
    [
      "stopped while waiting for space",
      Object.assign(new Error("stopped"), { name: "WorkspaceError", reason: "aborted" }),
      "cancelled",
      "cancelled",
    ],
    ["anything else", new TypeError("bug"), "failed", "internal"],
    ["a thrown string", "weird", "failed", "internal"],
  ])("%s ⇒ %s/%s", (_n, err, status, reason) => {
    expect(failureOutcome(err)).toMatchObject({ status, reason });
  });
  it("a prompt the payload store could not give is payload_unavailable", () => {
    const err = Object.assign(new Error("the job's prompt could not be read"), {
      name: "PayloadUnavailableError",
    });
    expect(failureOutcome(err)).toEqual({
      status: "failed",
      reason: "payload_unavailable",
      message: "the job's prompt could not be read",
    });
  });
  it("keeps the cost the CLI reported", () => {
    const err = new ClaudeBudgetExceededError("over");
    err.result = { total_cost_usd: 2.5 } as never;
    expect(failureOutcome(err).costUsd).toBe(2.5);
  });
  it("names the workspace failure's reason in the message", () => {
    const err = Object.assign(new Error("set GIT_CRYPT_KEY_FILE"), {
      name: "WorkspaceError",
      reason: "git_crypt_key_missing",
    });
    expect(failureOutcome(err).message).toBe("git_crypt_key_missing: set GIT_CRYPT_KEY_FILE");
  });
});
