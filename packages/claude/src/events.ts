import { z } from "zod";

/**
 * Schemas for what the real CLI prints: the `--output-format json` result and every
 * `stream-json` line. Objects are loose: a newer CLI may add fields, and we keep them.
 */

export const Usage = z.looseObject({
  input_tokens: z.number().default(0),
  output_tokens: z.number().default(0),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type Usage = z.infer<typeof Usage>;

export const ModelUsage = z.looseObject({
  inputTokens: z.number().default(0),
  outputTokens: z.number().default(0),
  cacheReadInputTokens: z.number().default(0),
  cacheCreationInputTokens: z.number().default(0),
  costUSD: z.number().default(0),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

export const PermissionDenial = z.looseObject({
  tool_name: z.string(),
  tool_use_id: z.string(),
  tool_input: z.unknown(),
});
export type PermissionDenial = z.infer<typeof PermissionDenial>;

export const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
export const ToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const ToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.unknown(),
  is_error: z.boolean().optional(),
});
const OtherBlock = z.looseObject({ type: z.string() });
export const ContentBlock = z.union([TextBlock, ToolUseBlock, ToolResultBlock, OtherBlock]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const ResultSubtype = z.union([
  z.literal("success"),
  z.literal("error_during_execution"),
  z.literal("error_max_turns"),
  z.literal("error_max_budget_usd"),
  z.literal("error_max_structured_output_retries"),
  z.string(),
]);

/** The terminal line (stream-json) or the whole output (json). */
export const ResultEvent = z.looseObject({
  type: z.literal("result"),
  subtype: ResultSubtype,
  is_error: z.boolean(),
  api_error_status: z.number().nullish(),
  /** The API's error type (`rate_limit_error`…) when the turn ended in an API error. */
  api_error_type: z.string().nullish(),
  /** Set by the CLI for some API errors: `usage_limit_reached` when a subscription plan is at its limit. */
  api_error: z.string().nullish(),
  duration_ms: z.number().default(0),
  duration_api_ms: z.number().optional(),
  num_turns: z.number().default(0),
  result: z.string().optional(),
  stop_reason: z.string().nullish(),
  session_id: z.string(),
  total_cost_usd: z.number().default(0),
  usage: Usage.default({ input_tokens: 0, output_tokens: 0 }),
  modelUsage: z.record(z.string(), ModelUsage).default({}),
  permission_denials: z.array(PermissionDenial).default([]),
  terminal_reason: z.string().optional(),
  errors: z.array(z.string()).optional(),
  structured_output: z.unknown().optional(),
});
export type ResultEvent = z.infer<typeof ResultEvent>;

export const SystemInitEvent = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("init"),
  session_id: z.string(),
  cwd: z.string(),
  tools: z.array(z.string()),
  model: z.string(),
  permissionMode: z.string(),
  claude_code_version: z.string().optional(),
  agents: z.array(z.string()).optional(),
});
export type SystemInitEvent = z.infer<typeof SystemInitEvent>;

export const SystemApiRetryEvent = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  attempt: z.number(),
  max_retries: z.number(),
  retry_delay_ms: z.number(),
  error_status: z.number().nullish(),
  error: z.string().nullish(),
});
export type SystemApiRetryEvent = z.infer<typeof SystemApiRetryEvent>;

/** Any other `system` line (`status`, hooks, compaction…). */
export const SystemOtherEvent = z.looseObject({ type: z.literal("system"), subtype: z.string() });

export const AssistantEvent = z.looseObject({
  type: z.literal("assistant"),
  message: z.looseObject({
    id: z.string(),
    model: z.string().optional(),
    role: z.literal("assistant"),
    content: z.array(ContentBlock),
    usage: Usage.optional(),
  }),
  parent_tool_use_id: z.string().nullish(),
  session_id: z.string(),
});
export type AssistantEvent = z.infer<typeof AssistantEvent>;

export const UserEvent = z.looseObject({
  type: z.literal("user"),
  message: z.looseObject({
    role: z.literal("user"),
    content: z.union([z.string(), z.array(ContentBlock)]),
  }),
  parent_tool_use_id: z.string().nullish(),
  session_id: z.string(),
});
export type UserEvent = z.infer<typeof UserEvent>;

/** A raw Messages API SSE event, present with `--include-partial-messages`. */
export const StreamEvent = z.looseObject({
  type: z.literal("stream_event"),
  event: z.looseObject({ type: z.string() }),
  parent_tool_use_id: z.string().nullish(),
  session_id: z.string().optional(),
});
export type StreamEvent = z.infer<typeof StreamEvent>;

/**
 * One window of the plan's utilisation as the CLI reads it from the API's
 * `anthropic-ratelimit-unified-{5h,7d,7d_oi}-*` headers: `utilization` is a fraction (1 = at the
 * limit), `resetsAt` unix seconds.
 */
export const RateLimitWindowInfo = z.looseObject({
  utilization: z.number().nullish(),
  resetsAt: z.number().nullish(),
  status: z.string().nullish(),
  surpassedThreshold: z.number().nullish(),
});
export type RateLimitWindowInfo = z.infer<typeof RateLimitWindowInfo>;

/**
 * The plan's state after an API response. Printed only under a subscription (OAuth) login, and only
 * when it changed (README: "Plan utilisation"). `status` is `allowed`, `allowed_warning` or
 * `rejected`; `rateLimitType` names the window that decided it (`five_hour`, `seven_day`, …).
 */
export const RateLimitInfo = z.looseObject({
  status: z.string(),
  resetsAt: z.number().nullish(),
  rateLimitType: z.string().nullish(),
  utilization: z.number().nullish(),
  surpassedThreshold: z.number().nullish(),
  overageStatus: z.string().nullish(),
  overageResetsAt: z.number().nullish(),
  overageDisabledReason: z.string().nullish(),
  isUsingOverage: z.boolean().nullish(),
  unifiedWindows: z.record(z.string(), RateLimitWindowInfo).nullish(),
});
export type RateLimitInfo = z.infer<typeof RateLimitInfo>;

export const RateLimitEvent = z.looseObject({
  type: z.literal("rate_limit_event"),
  rate_limit_info: RateLimitInfo,
  uuid: z.string().optional(),
  session_id: z.string().optional(),
});
export type RateLimitEvent = z.infer<typeof RateLimitEvent>;

export type ClaudeEvent =
  | SystemInitEvent
  | SystemApiRetryEvent
  | (z.infer<typeof SystemOtherEvent> & { subtype: string })
  | AssistantEvent
  | UserEvent
  | StreamEvent
  | RateLimitEvent
  | ResultEvent;

/** A line with a type we do not know: passed through untouched. */
export interface UnknownEvent {
  type: "unknown";
  raw: Record<string, unknown>;
}

/** A line that is not JSON or does not match its type's schema: reported, never thrown. */
export interface MalformedLine {
  type: "malformed";
  line: string;
  reason: string;
}

export type ParsedLine = ClaudeEvent | UnknownEvent | MalformedLine;
