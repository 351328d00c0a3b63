import {
  contentText,
  type ParsedLine,
  type RateLimitRunEvent,
  type RunEvent,
  translateLine as runEvents,
} from "@claude-gateway/claude";
import type { JobEvent } from "@claude-gateway/contracts";

/** A job event before it is numbered and stamped. */
export type JobEventBody = DistributiveOmit<JobEvent, "jobId" | "seq" | "at">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const MAX_TOOL_RESULT = 4096;

/**
 * Translates one stream-json line into the job event vocabulary. Text comes from partial
 * messages only (complete assistant text blocks would repeat it); tool calls from complete
 * assistant blocks; tool results from user lines. Sub-agent traffic is left out.
 */
export function translateLine(line: ParsedLine): JobEventBody[] {
  return readLine(line).events;
}

/**
 * What one stream-json line says: the job's events, and the subscription plan's utilisation when
 * the CLI reported it (`rate_limit_event`, OAuth logins only), which is the plan's, not the job's.
 */
export function readLine(line: ParsedLine): { events: JobEventBody[]; plan: RateLimitRunEvent[] } {
  const run = runEvents(line);
  return {
    events: run.flatMap(jobEvent),
    plan: run.filter((ev): ev is RateLimitRunEvent => ev.type === "rate_limit"),
  };
}

function jobEvent(ev: RunEvent): JobEventBody[] {
  switch (ev.type) {
    case "text_delta":
      return [{ type: "text", delta: ev.text }];
    case "tool_use":
      return [{ type: "tool_use", toolUseId: ev.id, name: ev.name, input: ev.input }];
    case "tool_result":
      return [
        {
          type: "tool_result",
          toolUseId: ev.toolUseId,
          isError: ev.isError,
          // Every block, non-text ones as JSON: a job's consumer sees what the tool answered.
          content: clip(contentText(ev.content, { nonText: "json" })),
        },
      ];
    default:
      // The result and errors come from the run's outcome; the rest has no job event.
      return [];
  }
}

function clip(s: string): string {
  return s.length > MAX_TOOL_RESULT
    ? `${s.slice(0, MAX_TOOL_RESULT)}… (${s.length - MAX_TOOL_RESULT} more chars)`
    : s;
}

/** Numbers and stamps the events of one job. */
export function eventSequencer(jobId: string, now: () => Date = () => new Date()) {
  let seq = 0;
  return (body: JobEventBody): JobEvent =>
    ({ ...body, jobId, seq: seq++, at: now().toISOString() }) as JobEvent;
}
