import { type ParsedLine, textDelta } from "@claude-gateway/claude";
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
  const delta = textDelta(line);
  if (delta !== undefined) return delta === "" ? [] : [{ type: "text", delta }];
  if (line.type === "assistant" && !line.parent_tool_use_id) {
    return line.message.content.flatMap((block): JobEventBody[] =>
      block.type === "tool_use" && "id" in block && "name" in block
        ? [{ type: "tool_use", toolUseId: String(block.id), name: String(block.name), input: block.input }]
        : [],
    );
  }
  if (line.type === "user" && !line.parent_tool_use_id && Array.isArray(line.message.content)) {
    return line.message.content.flatMap((block): JobEventBody[] =>
      block.type === "tool_result" && "tool_use_id" in block
        ? [
            {
              type: "tool_result",
              toolUseId: String(block.tool_use_id),
              isError: block.is_error === true,
              content: clip(contentText(block.content)),
            },
          ]
        : [],
    );
  }
  return [];
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((c) => (typeof c?.text === "string" ? c.text : JSON.stringify(c))).join("\n");
  }
  return content === undefined ? "" : JSON.stringify(content);
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
