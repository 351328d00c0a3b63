import { readJsonBody, sendError } from "@claude-gateway/service-kit";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { BadRequestError, BodyTooLargeError } from "../errors.js";

/** Refuses bodies over `maxBytes` with a 413 `body_too_large` envelope. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({ maxSize: maxBytes, onError: (c) => sendError(c, new BodyTooLargeError(maxBytes)) });

/**
 * The JSON body, or undefined when there is none (a bare `POST /api/vm/status`). A body that is
 * there must be JSON: 415 or 400 as `readJsonBody` answers.
 */
export async function readOptionalJson(c: Context, what = "the body"): Promise<unknown> {
  if ((await c.req.text()).trim() === "") return undefined;
  return readJsonBody(c, what);
}

export async function parseBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  optional = false,
): Promise<z.infer<T>> {
  const body = await readOptionalJson(c);
  if (body === undefined && !optional)
    throw new BadRequestError("invalid_request", "a JSON body is required");
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new BadRequestError(
      "invalid_request",
      "the request body is not valid",
      parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
    );
  }
  return parsed.data;
}
