import { lastUserBlocks, offeredToolNames, type StubHandler, type StubReply, text } from "./messages-stub.js";

/** The prefix under which the CLI offers a caller's tools (its in-process MCP server `client`). */
export const CLIENT_TOOL_PREFIX = "mcp__client__";

/** A tool result the model received, as the Messages API carries it. */
export interface ReceivedToolResult {
  toolUseId: string;
  content: string;
  isError: boolean;
}

/** The tool_result blocks of a request's last user message, their content as text (the CLI's reminders left out). */
export function toolResultsOf(body: Parameters<StubHandler>[0]["body"]): ReceivedToolResult[] {
  return lastUserBlocks(body)
    .filter((b) => b.type === "tool_result")
    .map((b) => ({
      toolUseId: String(b.tool_use_id),
      // The CLI adds its own reminders (budget, context) to the last result's content.
      content: (typeof b.content === "string"
        ? b.content
        : Array.isArray(b.content)
          ? (b.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? "").join("")
          : ""
      ).replace(/\s*<system-reminder>[\s\S]*?<\/system-reminder>\s*/g, ""),
      isError: b.is_error === true,
    }));
}

/**
 * A model that calls the caller's tools: a request without tool results is answered with calls of
 * `calls` (in one message, so several are parallel calls) — but only of tools the request offers
 * under the caller's prefix, else it answers a text saying which were missing, so a test sees it;
 * a request that carries tool results is answered with `answer(results)`, or with further calls
 * (`then`, a list of rounds) while rounds remain. Auxiliary requests fall through to the queue.
 */
export function callingClientTools(
  rounds: Array<Array<{ name: string; input: Record<string, unknown> }>>,
  answer: (results: ReceivedToolResult[]) => string,
): StubHandler {
  return (req) => {
    if (req.auxiliary) return undefined;
    const results = toolResultsOf(req.body);
    const round = results.length === 0 ? 0 : roundOf(req.body);
    if (round >= rounds.length) return text(answer(results));
    const calls = rounds[round]!;
    const offered = new Set(offeredToolNames(req.body));
    const missing = calls.filter((c) => !offered.has(`${CLIENT_TOOL_PREFIX}${c.name}`)).map((c) => c.name);
    if (missing.length > 0) return text(`not offered: ${missing.join(", ")}`);
    const reply: StubReply = {
      kind: "message",
      blocks: calls.map((c) => ({
        type: "tool_use",
        name: `${CLIENT_TOOL_PREFIX}${c.name}`,
        input: c.input,
      })),
      stopReason: "tool_use",
    };
    return reply;
  };
}

/** Which round of calls a request is at: the assistant messages with tool calls it carries so far. */
function roundOf(body: Parameters<StubHandler>[0]["body"]): number {
  return (body.messages ?? []).filter(
    (m) => m.role === "assistant" && Array.isArray(m.content) && m.content.some((b) => b.type === "tool_use"),
  ).length;
}
