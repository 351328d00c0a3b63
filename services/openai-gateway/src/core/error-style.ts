import type { GatewayError } from "./errors.js";

/**
 * Which API's error shape a request gets: Anthropic's for the Messages API (`/v1/messages…`), so
 * `@anthropic-ai/sdk` raises its typed errors; OpenAI's for everything else.
 */
export type ErrorStyle = "openai" | "anthropic";

export function errorStyleOf(path: string): ErrorStyle {
  return path === "/v1/messages" || path.startsWith("/v1/messages/") ? "anthropic" : "openai";
}

/** Anthropic's error body; `code` (ours, not Anthropic's) keeps the machine-readable reason. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string; code?: string };
}

/**
 * Anthropic's status and error type for one of ours. Anthropic answers with 400, 401, 403, 404,
 * 413, 429, 500 and 529 only: an executor that cannot take work is `529 overloaded_error` (its
 * clients retry it), a timed-out run `500 api_error`, whatever else `500 api_error`.
 */
export function anthropicAnswer(err: GatewayError): { status: number; body: AnthropicErrorBody } {
  const [status, type] = ANTHROPIC[err.status] ?? [500, "api_error"];
  // Anthropic's error has no `param`: a message that does not say where the problem is gets it in front.
  const message =
    err.param && !err.message.includes(err.param) ? `${err.param}: ${err.message}` : err.message;
  const error: AnthropicErrorBody["error"] = { type, message };
  if (err.code) error.code = err.code;
  return { status, body: { type: "error", error } };
}

const ANTHROPIC: Record<number, [number, string]> = {
  400: [400, "invalid_request_error"],
  401: [401, "authentication_error"],
  403: [403, "permission_error"],
  404: [404, "not_found_error"],
  413: [413, "request_too_large"],
  429: [429, "rate_limit_error"],
  499: [400, "invalid_request_error"],
  500: [500, "api_error"],
  503: [529, "overloaded_error"],
  504: [500, "api_error"],
};

/** The status and body of an error in the given style. */
export function renderError(style: ErrorStyle, err: GatewayError): { status: number; body: unknown } {
  return style === "anthropic" ? anthropicAnswer(err) : { status: err.status, body: err.body() };
}
