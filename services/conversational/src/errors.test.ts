import {
  ClaudeApiError,
  ClaudeAuthError,
  ClaudeCrashedError,
  ClaudeSessionNotFoundError,
  ClaudeTimeoutError,
} from "@claude-gateway/claude";
import { ModelNotSupportedError } from "@claude-gateway/contracts";
import { errorBody as envelope, toServiceError } from "@claude-gateway/service-kit";
import { describe, expect, it } from "vitest";
import {
  BodyTooLargeError,
  ConversationNotFoundError,
  InvalidRequestError,
  StoreUnavailableError,
  TooManyTurnsError,
} from "./errors.js";

/** What the edge answers for a thrown error (HTTP, SSE `error` event and NATS alike). */
const errorBody = (err: unknown) => {
  const e = toServiceError(err);
  return { status: e.status, body: envelope(e) };
};

describe("the error envelope of every failure", () => {
  it.each([
    ["bad input", new InvalidRequestError("message: Required"), 400, "invalid_request"],
    ["too large", new BodyTooLargeError("too large"), 413, "body_too_large"],
    ["unknown conversation", new ConversationNotFoundError("c1"), 404, "conversation_not_found"],
    ["store down", new StoreUnavailableError("kv down"), 503, "store_unavailable"],
    ["no login", new ClaudeAuthError("Invalid API key", 401), 503, "claude_not_authenticated"],
    ["upstream", new ClaudeApiError("API Error: 529 Overloaded", 529), 503, "upstream_error"],
    ["timeout", new ClaudeTimeoutError(60_000), 503, "timeout"],
    ["crash", new ClaudeCrashedError(1, undefined, "boom"), 503, "crashed"],
    ["lost session", new ClaudeSessionNotFoundError("s"), 503, "session_not_found"],
    ["anything else", new Error("secret internals"), 500, "internal"],
  ])("%s ⇒ %i %s", (_, err, status, code) => {
    const { status: s, body } = errorBody(err);
    expect(s).toBe(status);
    expect(body.error).toBe(code);
    expect(body.detail).not.toMatch(/\n/);
  });

  it("a full replica is a 429 too_many_turns with when to retry", () => {
    expect(errorBody(new TooManyTurnsError(5, 2))).toEqual({
      status: 429,
      body: {
        error: "too_many_turns",
        detail: "this replica is running 5 turns, its limit, and none finished in time; retry after 2 s",
        retry_after_seconds: 2,
      },
    });
  });

  it("an unsupported model is a 400 whose detail lists the supported ids", () => {
    const { status, body } = errorBody(
      new ModelNotSupportedError("gpt-4", ["claude-haiku-4-5", "claude-sonnet-4-6"]),
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      error: "model_not_supported",
      detail: "model 'gpt-4' is not supported; supported models: claude-haiku-4-5, claude-sonnet-4-6",
    });
  });

  it("a crash's stderr tail stays in the logs, not in the answer", () => {
    const { body } = errorBody(new ClaudeCrashedError(2, undefined, "/home/app/.claude secret path\nline"));
    expect(body.detail).toBe("claude crashed (exit code 2)");
  });

  it("an unexpected error says nothing about its internals", () => {
    expect(errorBody(new Error("password=hunter2")).body.detail).not.toContain("hunter2");
  });
});
