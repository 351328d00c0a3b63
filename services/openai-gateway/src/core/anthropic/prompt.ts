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
 */
export function promptOf(req: Pick<MessagesRequest, "system" | "turns">): {
  prompt: string;
  images: RequestImage[];
} {
  const images: RequestImage[] = [];
  const textOf = (parts: readonly TurnPart[]) =>
    parts
      .map((p) =>
        p.type === "text" ? p.text : imageMarker(images.push({ source: p.source, param: p.param })),
      )
      .join("\n");
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) messages.push({ role: "system", content: req.system });
  for (const turn of req.turns) messages.push({ role: turn.role, content: textOf(turn.parts) });
  checkImageCount(images.length, "messages");
  return { prompt: buildPrompt(messages), images };
}
