import { type ChatMessage, textOf } from "./request.js";

/**
 * Turns an OpenAI conversation into the one prompt the agent receives as the user's turn.
 *
 * A lone user message is passed as it is. Anything more becomes three tagged sections, in this
 * order, each present only when it has content:
 *
 *   <instructions>   every system and developer message, in order, separated by blank lines
 *   <conversation>   the earlier turns, each as <user>…</user> or <assistant>…</assistant>
 *   <request>        the last user message: what to answer now
 *
 * preceded by one line telling the agent how to read them. The agent keeps its own system prompt;
 * the caller's instructions arrive as part of the caller's request, which is what they are.
 */
export function buildPrompt(messages: readonly ChatMessage[]): string {
  const last = messages.at(-1);
  if (last?.role !== "user") throw new Error("a conversation must end with a user message");
  const instructions: string[] = [];
  const turns: string[] = [];
  for (const m of messages.slice(0, -1)) {
    const body = textOf(m.content);
    if (m.role === "system" || m.role === "developer") {
      if (body.trim() !== "") instructions.push(body);
    } else if (body.trim() !== "") {
      turns.push(`${open(m.role, m.name)}\n${body}\n</${m.role}>`);
    }
  }
  const request = textOf(last.content);
  if (instructions.length === 0 && turns.length === 0) return request;

  const sections: string[] = [lead(instructions.length > 0, turns.length > 0)];
  if (instructions.length > 0) sections.push(`<instructions>\n${instructions.join("\n\n")}\n</instructions>`);
  if (turns.length > 0) sections.push(`<conversation>\n${turns.join("\n\n")}\n</conversation>`);
  sections.push(`<request>\n${request}\n</request>`);
  return sections.join("\n\n");
}

function open(role: string, name: string | undefined): string {
  // Names are validated to [A-Za-z0-9_-], so they need no escaping.
  return name ? `<${role} name="${name}">` : `<${role}>`;
}

function lead(hasInstructions: boolean, hasConversation: boolean): string {
  if (hasInstructions && hasConversation) {
    return "Answer the request below as the assistant in the conversation before it, following the instructions.";
  }
  if (hasInstructions) return "Answer the request below, following the instructions.";
  return "Answer the request below as the assistant in the conversation before it.";
}
