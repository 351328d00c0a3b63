import type { ChatMessage } from "./request.js";
import { textOf } from "./request.js";
import { renderCall, renderResult } from "./tools/transcript.js";

/**
 * Turns an OpenAI conversation into the one prompt the agent receives as the user's turn.
 *
 * A lone user message is passed as it is. Anything more becomes three tagged sections, in this
 * order, each present only when it has content:
 *
 *   <instructions>   every system and developer message, in order, separated by blank lines
 *   <conversation>   the earlier turns, each as <user>…</user>, <assistant>…</assistant> or
 *                    <tool>…</tool> (the results of tool calls, consecutive ones together)
 *   <request>        the last user message: what to answer now
 *
 * preceded by one line telling the agent how to read them. The agent keeps its own system prompt;
 * the caller's instructions arrive as part of the caller's request, which is what they are.
 *
 * Tool calls of earlier turns are text in their assistant turn (`tools/transcript.ts`), and the
 * lead says they are a record. A conversation that ends with tool results (a continuation, which
 * the paused job answers, not this prompt) has no request: all of it is the conversation.
 */
export function buildPrompt(messages: readonly ChatMessage[]): string {
  const last = messages.at(-1);
  const continues = last?.role === "tool";
  if (last?.role !== "user" && !continues) {
    throw new Error("a conversation must end with a user message or tool results");
  }
  const instructions: string[] = [];
  const turns: Array<{ role: string; open: string; lines: string[] }> = [];
  let toolRecord = false;
  for (const m of continues ? messages : messages.slice(0, -1)) {
    if (m.role === "system" || m.role === "developer") {
      const body = textOf(m.content);
      if (body.trim() !== "") instructions.push(body);
    } else if (m.role === "tool") {
      toolRecord = true;
      const previous = turns.at(-1);
      if (previous?.role === "tool") previous.lines.push(renderResult(m));
      else turns.push({ role: "tool", open: "<tool>", lines: [renderResult(m)] });
    } else {
      const body = textOf(m.content);
      const calls = m.role === "assistant" ? (m.toolCalls ?? []).map(renderCall) : [];
      if (calls.length > 0) toolRecord = true;
      const lines = [...(body.trim() !== "" ? [body] : []), ...calls];
      if (lines.length > 0) turns.push({ role: m.role, open: open(m.role, m.name), lines });
    }
  }
  const request = last.role === "user" ? textOf(last.content) : "";
  if (!continues && instructions.length === 0 && turns.length === 0) return request;

  const sections: string[] = [lead(instructions.length > 0, turns.length > 0, continues, toolRecord)];
  if (instructions.length > 0) sections.push(`<instructions>\n${instructions.join("\n\n")}\n</instructions>`);
  if (turns.length > 0) {
    const rendered = turns.map((t) => `${t.open}\n${t.lines.join("\n")}\n</${t.role}>`);
    sections.push(`<conversation>\n${rendered.join("\n\n")}\n</conversation>`);
  }
  if (!continues) sections.push(`<request>\n${request}\n</request>`);
  return sections.join("\n\n");
}

function open(role: string, name: string | undefined): string {
  // Names are validated to [A-Za-z0-9_-], so they need no escaping.
  return name ? `<${role} name="${name}">` : `<${role}>`;
}

function lead(
  hasInstructions: boolean,
  hasConversation: boolean,
  continues: boolean,
  toolRecord: boolean,
): string {
  const following = hasInstructions ? ", following the instructions" : "";
  let line: string;
  if (continues) {
    line = `Continue the conversation below as the assistant${following}: the results of its last tool calls are in.`;
  } else if (hasConversation) {
    line = `Answer the request below as the assistant in the conversation before it${following}.`;
  } else {
    line = `Answer the request below${following}.`;
  }
  // The model must not take the record of earlier calls for a way to make one.
  return toolRecord
    ? `${line} The conversation's tool calls and their results are written out as text, for the record; to call a tool, use the tool itself, never such text.`
    : line;
}
