import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { BadRequestError, UnsupportedMediaTypeError } from "../errors.js";

/** Refuses bodies over `maxBytes` with the usual error shape. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      c.json({ error: { code: "body_too_large", message: `the body is over ${maxBytes} bytes` } }, 413),
  });

/** The JSON body, or undefined when there is none. A body that is there must be JSON. */
export async function readOptionalJson(c: Context): Promise<unknown> {
  const raw = await c.req.text();
  if (raw.trim() === "") return undefined;
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().includes("application/json")) {
    throw new UnsupportedMediaTypeError("send the body as application/json");
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadRequestError("invalid_json", "the body is not valid JSON");
  }
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
