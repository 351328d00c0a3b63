import { z } from "zod";

/** One problem with a rejected request: where (`path`, dotted) and what. */
export const ErrorIssue = z.object({ path: z.string(), message: z.string() });
export type ErrorIssue = z.infer<typeof ErrorIssue>;

/**
 * The error body of every service's own API, over HTTP and as the data of a NATS micro-service
 * error (whose `Nats-Service-Error-Code` header carries the HTTP status). `error` is a stable,
 * machine-readable code; `detail` one line for a human. The OpenAI surface keeps OpenAI's shape
 * and maps this one in one place.
 */
export const ErrorEnvelope = z.object({
  error: z.string().min(1),
  detail: z.string(),
  /** When to try again (also the `Retry-After` header over HTTP). */
  retry_after_seconds: z.number().int().nonnegative().optional(),
  /** Per-field problems of a rejected request. */
  issues: z.array(ErrorIssue).optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** Turns zod issues into the `issues` list of an error envelope. */
export function issuesOf(error: z.ZodError): ErrorIssue[] {
  return error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message }));
}
