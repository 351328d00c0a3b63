import { type ParsedLine, textDelta } from "@claude-gateway/claude";
import type { ChatEvent } from "./wire.js";

/** Tool output beyond this is clipped in the UI (the agent itself saw all of it). */
export const MAX_TOOL_OUTPUT_CHARS = 8192;

/**
 * Translates one turn's stream-json lines into the chat's SSE vocabulary. Live text comes from
 * partial messages (`--include-partial-messages`); the complete assistant block that follows would
 * repeat it, so only its tool calls are taken. Tool results come from `user` lines and carry the
 * name of the call they answer. Sub-agent traffic (`parent_tool_use_id`) is left out. The `session`,
 * `error` and `done` events are the turn runner's, not the CLI's.
 *
 * Pure but for the call-id → name memory of one turn: make one translator per turn.
 */
export function createTranslator(): (line: ParsedLine) => ChatEvent[] {
  const toolNames = new Map<string, string>();
  return (line) => {
    const delta = textDelta(line);
    if (delta !== undefined) return delta === "" ? [] : [{ type: "text", delta }];

    if (line.type === "assistant" && !line.parent_tool_use_id) {
      return line.message.content.flatMap((block): ChatEvent[] => {
        if (block.type !== "tool_use" || !("id" in block) || !("name" in block)) return [];
        const id = String(block.id);
        const name = String(block.name);
        toolNames.set(id, name);
        return [{ type: "tool", phase: "call", id, name, input: block.input }];
      });
    }

    if (line.type === "user" && !line.parent_tool_use_id && Array.isArray(line.message.content)) {
      return line.message.content.flatMap((block): ChatEvent[] => {
        if (block.type !== "tool_result" || !("tool_use_id" in block)) return [];
        const id = String(block.tool_use_id);
        const full = contentText(block.content);
        const truncated = full.length > MAX_TOOL_OUTPUT_CHARS;
        return [
          {
            type: "tool",
            phase: "result",
            id,
            name: toolNames.get(id) ?? null,
            output: truncated ? `${full.slice(0, MAX_TOOL_OUTPUT_CHARS)}…` : full,
            isError: block.is_error === true,
            truncated,
          },
        ];
      });
    }

    if (line.type === "result") {
      return [
        {
          type: "result",
          isError: line.is_error,
          costUsd: line.total_cost_usd,
          durationMs: line.duration_ms,
          numTurns: line.num_turns,
          inputTokens: line.usage.input_tokens,
          outputTokens: line.usage.output_tokens,
          permissionDenials: line.permission_denials.map((d) => ({ tool: d.tool_name, input: d.tool_input })),
        },
      ];
    }
    return [];
  };
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((c) => (typeof (c as { text?: unknown })?.text === "string" ? (c as { text: string }).text : ""))
      .filter((s) => s !== "")
      .join("\n");
  }
  return content === undefined || content === null ? "" : JSON.stringify(content);
}
