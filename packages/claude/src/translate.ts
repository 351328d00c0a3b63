import type { ParsedLine, RateLimitInfo, ResultEvent, StreamEvent } from "./events.js";

/** A usage-limit window of a subscription plan; the API may name others. */
export type PlanWindow = "five_hour" | "seven_day" | "seven_day_overage_included" | "overage" | (string & {});

/** The latest reading of one window. */
export interface RateLimitWindow {
  window: PlanWindow;
  /** Share of the window's allowance used, as the API reports it: 0..1, 1 = at the limit. */
  utilization: number | undefined;
  /** Unix seconds. */
  resetsAt: number | undefined;
  /** `allowed`, `allowed_warning` or `rejected`. */
  status: string | undefined;
}

/** The plan's utilisation after an API response (subscription logins only). */
export interface RateLimitRunEvent {
  type: "rate_limit";
  /** `allowed`, `allowed_warning`, or `rejected`: the API refuses requests until `resetsAt`. */
  status: string;
  /** The window that decided `status` (the API's representative claim). */
  window: PlanWindow | undefined;
  /** Unix seconds when that window resets. */
  resetsAt: number | undefined;
  /** Requests past the limit are served anyway, paid by extra usage. */
  usingOverage: boolean;
  windows: RateLimitWindow[];
}

/**
 * What a run says, in a small service-neutral vocabulary; each service maps these to its own wire
 * (job events, chat events, sentences).
 */
export type RunEvent =
  /** Live text of the answer (`--include-partial-messages`). */
  | { type: "text_delta"; text: string }
  /** A complete assistant text block: the same text the deltas carried, in one piece. */
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  /** `content` as the CLI gave it (a string or content blocks): read it with `contentText`. */
  | { type: "tool_result"; toolUseId: string; content: unknown; isError: boolean }
  | {
      type: "api_retry";
      attempt: number;
      maxRetries: number;
      retryDelayMs: number;
      errorStatus: number | undefined;
      error: string | undefined;
    }
  | { type: "result"; result: ResultEvent }
  | RateLimitRunEvent
  /** The raw Messages API SSE event, for callers that pass the API's stream on unchanged. */
  | { type: "stream_event"; event: StreamEvent["event"] };

/**
 * Translates one stream-json line. Pure. Sub-agent traffic (`parent_tool_use_id`) is left out:
 * every consumer shows the main agent only, and a sub-agent's raw API events would corrupt a
 * passed-on stream. A text delta line yields its raw `stream_event` and then the `text_delta`.
 */
export function translateLine(line: ParsedLine): RunEvent[] {
  switch (line.type) {
    case "stream_event": {
      if (line.parent_tool_use_id) return [];
      const text = textDelta(line.event);
      const raw: RunEvent = { type: "stream_event", event: line.event };
      return text ? [raw, { type: "text_delta", text }] : [raw];
    }
    case "assistant":
      if (line.parent_tool_use_id) return [];
      return line.message.content.flatMap((block): RunEvent[] => {
        if (block.type === "text" && "text" in block && typeof block.text === "string") {
          return block.text === "" ? [] : [{ type: "text", text: block.text }];
        }
        if (block.type === "tool_use" && "id" in block && "name" in block) {
          return [{ type: "tool_use", id: String(block.id), name: String(block.name), input: block.input }];
        }
        return [];
      });
    case "user":
      if (line.parent_tool_use_id || !Array.isArray(line.message.content)) return [];
      return line.message.content.flatMap((block): RunEvent[] =>
        block.type === "tool_result" && "tool_use_id" in block
          ? [
              {
                type: "tool_result",
                toolUseId: String(block.tool_use_id),
                content: block.content,
                isError: block.is_error === true,
              },
            ]
          : [],
      );
    case "system":
      if (line.subtype !== "api_retry") return [];
      return [apiRetry(line as ApiRetryLine)];
    case "result":
      return [{ type: "result", result: line as ResultEvent }];
    case "rate_limit_event":
      return [rateLimit(line.rate_limit_info)];
    default:
      return [];
  }
}

function rateLimit(info: RateLimitInfo): RateLimitRunEvent {
  const windows = Object.entries(info.unifiedWindows ?? {}).map(
    ([window, w]): RateLimitWindow => ({
      window,
      utilization: w.utilization ?? undefined,
      resetsAt: w.resetsAt ?? undefined,
      status: w.status ?? undefined,
    }),
  );
  const window = info.rateLimitType ?? undefined;
  // Without its window list (an older CLI, or an overage claim) the deciding window is still known.
  if (window && !windows.some((w) => w.window === window)) {
    windows.push({
      window,
      utilization: info.utilization ?? undefined,
      resetsAt: info.resetsAt ?? undefined,
      status: info.status,
    });
  }
  return {
    type: "rate_limit",
    status: info.status,
    window,
    resetsAt: info.resetsAt ?? undefined,
    usingOverage: info.isUsingOverage === true,
    windows,
  };
}

interface ApiRetryLine {
  attempt: number;
  max_retries: number;
  retry_delay_ms: number;
  error_status?: number | null;
  error?: string | null;
}

function apiRetry(line: ApiRetryLine): RunEvent {
  return {
    type: "api_retry",
    attempt: line.attempt,
    maxRetries: line.max_retries,
    retryDelayMs: line.retry_delay_ms,
    errorStatus: line.error_status ?? undefined,
    error: line.error ?? undefined,
  };
}

function textDelta(event: StreamEvent["event"]): string | undefined {
  const e = event as { type: string; delta?: { type?: string; text?: unknown } };
  return e.type === "content_block_delta" &&
    e.delta?.type === "text_delta" &&
    typeof e.delta.text === "string"
    ? e.delta.text
    : undefined;
}

export interface ContentTextOptions {
  /**
   * Blocks that are not text (images, documents…): `omit` leaves them (and empty text) out;
   * `json` keeps every block, non-text ones as JSON, so nothing the tool answered is hidden.
   * Default `omit`.
   */
  nonText?: "omit" | "json";
}

/** The text of a tool result's `content`: a string, or content blocks joined by newlines. */
export function contentText(content: unknown, opts: ContentTextOptions = {}): string {
  const json = opts.nonText === "json";
  if (typeof content === "string") return content;
  if (content === undefined || (content === null && !json)) return "";
  if (!Array.isArray(content)) return JSON.stringify(content);
  const parts = content.map((block: unknown) => {
    const text = (block as { text?: unknown } | null)?.text;
    if (typeof text === "string") return text;
    return json ? (JSON.stringify(block) ?? "") : "";
  });
  return (json ? parts : parts.filter((p) => p !== "")).join("\n");
}
