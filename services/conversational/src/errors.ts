import { ClaudeCrashedError, ClaudeError, ModelNotSupportedError } from "@claude-gateway/claude";

/**
 * The service's own failures, each carrying the status the edge answers with. Mapped to HTTP in
 * `app.onError` and to NATS service errors in `nats.ts`, both through `errorBody`.
 */
export abstract class ConversationalError extends Error {
  abstract readonly status: 400 | 404 | 413 | 500 | 503;
  abstract readonly code: string;
}

export class InvalidRequestError extends ConversationalError {
  override readonly name = "InvalidRequestError";
  readonly status = 400;
  readonly code = "invalid_request";
}

export class BodyTooLargeError extends ConversationalError {
  override readonly name = "BodyTooLargeError";
  readonly status = 413;
  readonly code = "body_too_large";
}

export class ConversationNotFoundError extends ConversationalError {
  override readonly name = "ConversationNotFoundError";
  readonly status = 404;
  readonly code = "conversation_not_found";
  constructor(readonly conversationId: string) {
    super(`no conversation ${conversationId} (unknown, or idle longer than its TTL)`);
  }
}

/** NATS (KV or object store) failed: the turn's state could not be read or kept. */
export class StoreUnavailableError extends ConversationalError {
  override readonly name = "StoreUnavailableError";
  readonly status = 503;
  readonly code = "store_unavailable";
}

/** The agent file offers tools: refused at start-up, and again for every turn. */
export class UnsafeAgentError extends ConversationalError {
  override readonly name = "UnsafeAgentError";
  readonly status = 500;
  readonly code = "unsafe_agent";
}

export interface ErrorBody {
  error: string;
  detail: string;
}

/** Every error as the status and `{ error, detail }` body the edge answers with. */
export function errorBody(err: unknown): { status: 400 | 404 | 413 | 500 | 503; body: ErrorBody } {
  if (err instanceof ConversationalError) {
    return { status: err.status, body: { error: err.code, detail: oneLine(err.message) } };
  }
  if (err instanceof ModelNotSupportedError) {
    return {
      status: 400,
      body: {
        error: err.code,
        detail: `model '${err.model}' is not supported; supported models: ${err.supported.join(", ")}`,
      },
    };
  }
  if (err instanceof ClaudeError) {
    return { status: 503, body: { error: err.code, detail: claudeDetail(err) } };
  }
  return { status: 500, body: { error: "internal", detail: "internal error; see the service's logs" } };
}

/** One line for the client; a crash's stderr tail stays in the logs. */
function claudeDetail(err: ClaudeError): string {
  if (err instanceof ClaudeCrashedError) {
    return oneLine(err.message.replace(/; stderr: .*$/s, ""));
  }
  return oneLine(err.message);
}

export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
