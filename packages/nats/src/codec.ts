import type { z } from "zod";

/** A schema problem, structurally what zod reports. */
export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export type Decoded<T> =
  | { ok: true; value: T }
  | { ok: false; reason: "json"; message: string }
  | { ok: false; reason: "schema"; message: string; issues: readonly Issue[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** JSON bytes → a schema-checked value, or why not. Never throws. */
export function decodeJson<S extends z.ZodType>(data: Uint8Array, schema: S): Decoded<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch (err) {
    return { ok: false, reason: "json", message: `invalid JSON: ${(err as Error).message}` };
  }
  return check(raw, schema);
}

/** A value → the schema's output, or the issues. Never throws. */
export function check<S extends z.ZodType>(value: unknown, schema: S): Decoded<z.output<S>> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues;
  return { ok: false, reason: "schema", message: formatIssues(issues), issues };
}

/** `path.to.field: message; other: message` — one line, so it fits in a NATS header. */
export function formatIssues(issues: readonly Issue[]): string {
  if (issues.length === 0) return "invalid value";
  return issues
    .map((issue) => {
      const path = issue.path.map((p) => String(p)).join(".");
      return `${path === "" ? "(root)" : path}: ${issue.message}`;
    })
    .join("; ");
}

const MAX_HEADER_VALUE = 1024;

/** Header values may not contain CR/LF; keep them short too. */
export function headerSafe(text: string): string {
  const flat = text.replace(/[\r\n]+/g, " ").trim();
  return flat.length > MAX_HEADER_VALUE ? `${flat.slice(0, MAX_HEADER_VALUE - 1)}…` : flat;
}

/** The schema issues of a failed decode (none for bad JSON). */
export function issuesOf(decoded: Exclude<Decoded<unknown>, { ok: true }>): readonly Issue[] {
  return decoded.reason === "schema" ? decoded.issues : [];
}
