import type { ErrorBody } from "../../../src/core/wire.js";

/**
 * The error envelope (`{ error, detail }`) in a parsed answer, if it is one. A verb that fails
 * after its stream started answers 200 with it, so the status alone does not tell.
 */
export function errorOf(body: unknown): ErrorBody | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { error, detail } = body as { error?: unknown; detail?: unknown };
  if (typeof error !== "string") return undefined;
  return { error, detail: typeof detail === "string" ? detail : "" };
}
