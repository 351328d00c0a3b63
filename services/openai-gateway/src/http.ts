import type { AuthEnv } from "@claude-gateway/auth";
import type { RequestVariables } from "@claude-gateway/service-kit";
import type { Context } from "hono";
import { InvalidRequestError } from "./core/errors.js";

/** What the app's middleware puts on `c.var`. */
export type AppEnv = AuthEnv & { Variables: RequestVariables };

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().includes("application/json")) {
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
