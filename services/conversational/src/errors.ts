import { ServiceError } from "@claude-gateway/service-kit";

/**
 * The service's own failures, each a service error carrying its answer: rendered as the error
 * envelope by `app.onError`, in a stream's `error` event and by the NATS endpoint helper. The
 * claude package's errors carry their own answer (503, the crash's stderr kept out of `detail`).
 */
export class InvalidRequestError extends ServiceError {
  override name = "InvalidRequestError";
  constructor(detail: string) {
    super(400, "invalid_request", detail);
  }
}

export class BodyTooLargeError extends ServiceError {
  override name = "BodyTooLargeError";
  constructor(detail: string) {
    super(413, "body_too_large", detail);
  }
}

/** Another caller's conversation: answered as if it did not exist. */
export class ConversationNotFoundError extends ServiceError {
  override name = "ConversationNotFoundError";
  constructor(readonly conversationId: string) {
    super(404, "conversation_not_found", `no conversation ${conversationId} of yours`);
  }
}

/** Every turn slot of this replica stayed taken for the whole queue wait: 429, retry shortly. */
export class TooManyTurnsError extends ServiceError {
  override name = "TooManyTurnsError";
  constructor(max: number, retryAfterSeconds: number) {
    super(
      429,
      "too_many_turns",
      `this replica is running ${max} turns, its limit, and none finished in time; retry after ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** NATS (KV or object store) failed: the turn's state could not be read or kept. */
export class StoreUnavailableError extends ServiceError {
  override name = "StoreUnavailableError";
  constructor(detail: string, options?: ErrorOptions) {
    super(503, "store_unavailable", detail, options ?? {});
  }
}

/** The agent file offers tools: refused at start-up, and again for every turn. */
export class UnsafeAgentError extends ServiceError {
  override name = "UnsafeAgentError";
  constructor(detail: string) {
    super(500, "unsafe_agent", detail);
  }
}
