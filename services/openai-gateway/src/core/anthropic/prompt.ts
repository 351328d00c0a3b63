import { checkImageCount, imageMarker, type RequestImage } from "../images.js";
import { buildPrompt } from "../prompt.js";
import type { ChatMessage } from "../request.js";
import type { MessagesRequest, TurnPart } from "./request.js";

/**
 * A Messages request as the job's prompt and images. The conversation becomes one prompt as chat
 * completions' does (`buildPrompt`): `system` (and any `system` messages) are the instructions,
 * earlier turns the conversation, the last user message the request. Blocks of one message are
 * joined by newlines. The agent sees a job's images before its prompt, in order: an image block
 * leaves `[image N]` where it was, so the text still says which image it talks about.
 *
 * Earlier tool rounds are text (a new job cannot replay them): an assistant message's `tool_use`
 * blocks are its calls, and a user message's `tool_result` blocks are the tool's turn, before
 * whatever else the message says.
 */
export function promptOf(req: Pick<MessagesRequest, "system" | "turns">): {
  prompt: string;
  images: RequestImage[];
} {
  const images: RequestImage[] = [];
  const textOf = (parts: readonly TurnPart[]) =>
    parts
      .flatMap((p) => {
        if (p.type === "text") return [p.text];
        if (p.type === "image") return [imageMarker(images.push({ source: p.source, param: p.param }))];
        return [];
      })
      .join("\n");
  const messages: ChatMessage[] = [];
  const names = new Map<string, string>();
  if (req.system !== undefined) messages.push({ role: "system", content: req.system });
  for (const turn of req.turns) {
    const calls = turn.parts.flatMap((p) => (p.type === "tool_use" ? [p] : []));
    const results = turn.parts.flatMap((p) => (p.type === "tool_result" ? [p] : []));
    for (const call of calls) names.set(call.id, call.name);
    for (const result of results) {
      messages.push({
        role: "tool",
        name: names.get(result.toolUseId),
        content: result.content,
        isError: result.isError,
      });
    }
    if (turn.role === "assistant" && calls.length > 0) {
      const toolCalls = calls.map((call) => ({ name: call.name, arguments: JSON.stringify(call.input) }));
      messages.push({ role: "assistant", content: textOf(turn.parts), toolCalls });
    } else if (results.length === 0 || turn.parts.length > results.length) {
      messages.push({ role: turn.role, content: textOf(turn.parts) });
    }
  }
  checkImageCount(images.length, "messages");
  return { prompt: buildPrompt(messages), images };
}
