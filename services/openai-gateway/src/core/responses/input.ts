import { checkImageCount, type ImageSource, imageMarker, imageSourceOf } from "../images.js";
import { buildPrompt } from "../prompt.js";
import type { ChatMessage } from "../request.js";
import type { InputItem } from "./request.js";

/**
 * Maps `instructions` and the input items onto the prompt chat completions use (`buildPrompt`):
 * `instructions`, then system and developer messages, become the instructions; earlier turns the
 * conversation; the last user message the request. Function calls belong to the assistant turn
 * before them and their outputs are the tool's turn, as text (a new job cannot replay them). Each
 * image leaves `[image N]` where it stood in its message; the images themselves go to the job, in
 * the same order (`imageSourcesOf`), and the agent sees them before the prompt's text.
 */
export function promptOf(req: { instructions: string | null; input: readonly InputItem[] }): string {
  let images = 0;
  const messages: ChatMessage[] = [];
  const names = new Map<string, string>();
  if (req.instructions != null && req.instructions.trim() !== "") {
    messages.push({ role: "system", content: req.instructions });
  }
  for (const item of req.input) {
    if (item.type === "function_call") {
      names.set(item.callId, item.name);
      const call = { name: item.name, arguments: item.arguments };
      const previous = messages.at(-1);
      if (previous?.role === "assistant") previous.toolCalls = [...(previous.toolCalls ?? []), call];
      else messages.push({ role: "assistant", content: null, toolCalls: [call] });
    } else if (item.type === "function_call_output") {
      messages.push({ role: "tool", name: names.get(item.callId), content: item.output });
    } else {
      const text = item.parts
        .map((part) => (part.type === "text" ? part.text : imageMarker(++images)))
        .join("\n");
      messages.push({ role: item.role, content: text });
    }
  }
  return buildPrompt(messages);
}

/** An image of the input, decoded if inline, with the field that named it. */
export interface InputImage {
  source: ImageSource;
  param: string;
}

/**
 * The input's images in order (the order of their `[image N]` markers). Throws the client's 400 for
 * more than a job carries, and for a URL that is neither a base64 data URL nor http(s).
 */
export function imageSourcesOf(input: readonly InputItem[]): InputImage[] {
  const parts = input.flatMap((item) =>
    item.type === "message" ? item.parts.flatMap((p) => (p.type === "image" ? [p] : [])) : [],
  );
  checkImageCount(parts.length, "input");
  return parts.map((p) => ({ source: imageSourceOf(p.url, p.param), param: p.param }));
}
