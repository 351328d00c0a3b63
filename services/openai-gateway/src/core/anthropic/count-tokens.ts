import { GatewayError } from "../errors.js";

/**
 * `POST /v1/messages/count_tokens` has no honest answer here: counting needs the model's
 * tokenizer, which is neither public nor offline, and the gateway holds no API key to ask
 * Anthropic's own endpoint. The CLI cannot count without running a turn (which costs one). A guess
 * from characters would be off by enough to overflow a context window or a budget, so the route
 * says plainly that it is not there. Answered with `x-should-retry: false`: retrying cannot help.
 */
export class TokenCountingUnavailableError extends GatewayError {
  override readonly name = "TokenCountingUnavailableError";
  constructor() {
    super(
      "count_tokens is not available through this gateway: it has no tokenizer and no API key to ask " +
        "Anthropic's. The usage of each /v1/messages response reports the tokens a request used.",
      { status: 501, type: "api_error", code: "count_tokens_unavailable" },
    );
  }
}
