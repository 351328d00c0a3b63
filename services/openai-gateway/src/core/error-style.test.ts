import { describe, expect, it } from "vitest";
import { anthropicAnswer, errorStyleOf, renderError } from "./error-style.js";
import {
  AuthenticationError,
  CallerLimitError,
  InternalError,
  InvalidRequestError,
  JobTimedOutError,
  ModelNotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  UnavailableError,
} from "./errors.js";

describe("errorStyleOf", () => {
  it.each([
    ["/v1/messages", "anthropic"],
    ["/v1/messages/count_tokens", "anthropic"],
    ["/v1/messagesx", "openai"],
    ["/v1/chat/completions", "openai"],
    ["/v1/responses", "openai"],
    ["/v1/models", "openai"],
  ])("%s → %s", (path, style) => {
    expect(errorStyleOf(path)).toBe(style);
  });
});

describe("anthropicAnswer", () => {
  it.each([
    [new InvalidRequestError("bad", "messages", "invalid_value"), 400, "invalid_request_error"],
    [new AuthenticationError("who", 401), 401, "authentication_error"],
    [new PermissionDeniedError("model_not_allowed", "no", "model"), 403, "permission_error"],
    [new ModelNotFoundError("none", 404), 404, "not_found_error"],
    [new PayloadTooLargeError(10), 413, "request_too_large"],
    [new CallerLimitError("rate_limited", "slow down", 3), 429, "rate_limit_error"],
    [new InternalError(), 500, "api_error"],
    [new UnavailableError("executor_unavailable", "none"), 529, "overloaded_error"],
    [new JobTimedOutError("j", "late"), 500, "api_error"],
  ])("%o → %i %s", (err, status, type) => {
    const answer = anthropicAnswer(err);
    expect(answer.status).toBe(status);
    // Anthropic's errors have no `param`: the message names it (`messages: …`), as Anthropic's own do.
    const message = err.param ? `${err.param}: ${err.message}` : err.message;
    expect(answer.body).toEqual({ type: "error", error: { type, message, code: err.code } });
  });

  it("renders OpenAI's shape unchanged for the OpenAI style", () => {
    const err = new InvalidRequestError("bad", "model", "invalid_value");
    expect(renderError("openai", err)).toEqual({ status: 400, body: err.body() });
  });
});
