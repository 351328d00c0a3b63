import { contentText, type ParsedLine, type RunEvent, translateLine } from "@claude-gateway/claude";
import type { ChatEvent } from "./wire.js";

/** Tool output beyond this is clipped in the UI (the agent itself saw all of it). */
export const MAX_TOOL_OUTPUT_CHARS = 8192;

/**
 * Translates one turn's stream-json lines into chat events. Live text comes from partial messages
 * (`--include-partial-messages`); the complete assistant block that follows would repeat it, so
 * only its tool calls are taken. Tool results carry the name of the call they answer. Sub-agent
 * traffic is left out. The `session`, `error` and `done` events are the turn runner's, not the CLI's.
 *
 * Pure but for the call-id → name memory of one turn: make one translator per turn.
 */
export function createChatTranslator(): (line: ParsedLine) => ChatEvent[] {
  const toolNames = new Map<string, string>();
  const chatEvents = (ev: RunEvent): ChatEvent[] => {
    switch (ev.type) {
      case "text_delta":
        return [{ type: "text", delta: ev.text }];
      case "tool_use":
        toolNames.set(ev.id, ev.name);
        return [{ type: "tool", phase: "call", id: ev.id, name: ev.name, input: ev.input }];
      case "tool_result": {
        const full = contentText(ev.content);
        const truncated = full.length > MAX_TOOL_OUTPUT_CHARS;
        return [
          {
            type: "tool",
            phase: "result",
            id: ev.toolUseId,
            name: toolNames.get(ev.toolUseId) ?? null,
            output: truncated ? `${full.slice(0, MAX_TOOL_OUTPUT_CHARS)}…` : full,
            isError: ev.isError,
            truncated,
          },
        ];
      }
      case "result": {
        const r = ev.result;
        return [
          {
            type: "result",
            isError: r.is_error,
            costUsd: r.total_cost_usd,
            durationMs: r.duration_ms,
            numTurns: r.num_turns,
            inputTokens: r.usage.input_tokens,
            outputTokens: r.usage.output_tokens,
            permissionDenials: r.permission_denials.map((d) => ({ tool: d.tool_name, input: d.tool_input })),
          },
        ];
      }
      default:
        return [];
    }
  };
  return (line) => translateLine(line).flatMap(chatEvents);
}
