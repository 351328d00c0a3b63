import type { z } from "zod";
import {
  AssistantEvent,
  type ParsedLine,
  RateLimitEvent,
  ResultEvent,
  StreamEvent,
  SystemApiRetryEvent,
  SystemInitEvent,
  SystemOtherEvent,
  UserEvent,
} from "./events.js";

function schemaFor(type: unknown, subtype: unknown): z.ZodType | undefined {
  switch (type) {
    case "system":
      if (subtype === "init") return SystemInitEvent;
      if (subtype === "api_retry") return SystemApiRetryEvent;
      return SystemOtherEvent;
    case "assistant":
      return AssistantEvent;
    case "user":
      return UserEvent;
    case "stream_event":
      return StreamEvent;
    case "rate_limit_event":
      return RateLimitEvent;
    case "result":
      return ResultEvent;
    default:
      return undefined;
  }
}

const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 500)}…` : s);

/** Parses one stream-json line. Never throws. */
export function parseLine(line: string): ParsedLine | undefined {
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { type: "malformed", line: clip(trimmed), reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { type: "malformed", line: clip(trimmed), reason: "not a JSON object" };
  }
  const obj = value as Record<string, unknown>;
  const schema = schemaFor(obj.type, obj.subtype);
  if (!schema) return { type: "unknown", raw: obj };
  const parsed = schema.safeParse(obj);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    return { type: "malformed", line: clip(trimmed), reason: `${String(obj.type)} line: ${issues}` };
  }
  return parsed.data as ParsedLine;
}

/**
 * Parses the whole stdout of `--output-format json`: one result object. With `--verbose` the CLI
 * prints an array of every message instead; the result is its last element.
 */
export function parseJsonOutput(stdout: string): ResultEvent | { type: "malformed"; reason: string } {
  const trimmed = stdout.trim();
  if (trimmed === "") return { type: "malformed", reason: "empty output" };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { type: "malformed", reason: `not JSON: ${(err as Error).message}` };
  }
  const candidate = Array.isArray(value)
    ? value.findLast((v) => (v as { type?: unknown })?.type === "result")
    : value;
  const parsed = ResultEvent.safeParse(candidate);
  if (!parsed.success) {
    return {
      type: "malformed",
      reason: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    };
  }
  return parsed.data;
}
