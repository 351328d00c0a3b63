import type { AuthEnv } from "@claude-gateway/auth";
import { isJsonMediaType, type RequestVariables } from "@claude-gateway/service-kit";
import type { Context } from "hono";
import { InvalidRequestError } from "./core/errors.js";

/** What the app's middleware puts on `c.var`. */
export type AppEnv = AuthEnv & { Variables: RequestVariables };

/**
 * The request's JSON body. Its media type must be `application/json` (parameters allowed), not
 * merely mention it: `text/plain; charset=application/json` crosses sites without a preflight.
 */
export async function readJson(c: Context): Promise<unknown> {
  if (!isJsonMediaType(c.req.header("content-type"))) {
    throw new InvalidRequestError(
      "Send the request body as application/json.",
      null,
      "unsupported_media_type",
    );
  }
  try {
    return await c.req.json();
  } catch {
    throw new InvalidRequestError(
      "We could not parse the JSON body of your request: it is not valid JSON.",
      null,
      "invalid_json",
    );
  }
}
