import { GatewayError, InvalidRequestError } from "../errors.js";

/** `GET /v1/responses/{id}` of a response the caller has not got (unknown, another's, not stored). */
export class ResponseNotFoundError extends GatewayError {
  override readonly name = "ResponseNotFoundError";
  constructor(id: string) {
    super(`Response with id '${id.slice(0, 100)}' not found.`, {
      status: 404,
      type: "invalid_request_error",
      code: "response_not_found",
    });
  }
}

/** Why a `previous_response_id` cannot be continued: OpenAI answers these with a 400 naming it. */
export type PreviousResponseProblem = "not_found" | "in_progress" | "failed" | "unavailable";

export function previousResponseError(id: string, problem: PreviousResponseProblem): InvalidRequestError {
  const shown = id.slice(0, 100);
  const [message, code] = (
    {
      not_found: [`Previous response with id '${shown}' not found.`, "previous_response_not_found"],
      in_progress: [
        `Previous response with id '${shown}' is still in progress; continue it once it has completed.`,
        "previous_response_in_progress",
      ],
      failed: [
        `Previous response with id '${shown}' did not complete, so it cannot be continued.`,
        "previous_response_failed",
      ],
      unavailable: [
        `The conversation of previous response '${shown}' is no longer available.`,
        "previous_response_not_found",
      ],
    } satisfies Record<PreviousResponseProblem, [string, string]>
  )[problem];
  return new InvalidRequestError(message, "previous_response_id", code);
}
