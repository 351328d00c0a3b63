import { checkImageCount, type ImageSource, imageMarker, imageSourceOf } from "../images.js";
import { buildPrompt } from "../prompt.js";
import type { ChatMessage } from "../request.js";
import type { InputMessage } from "./request.js";

/**
 * Maps `instructions` and the input messages onto the prompt chat completions use (`buildPrompt`):
 * `instructions`, then system and developer messages, become the instructions; earlier turns the
 * conversation; the last user message the request. Each image leaves `[image N]` where it stood in
 * its message; the images themselves go to the job, in the same order (`imageSourcesOf`), and the
 * agent sees them before the prompt's text.
 */
export function promptOf(req: { instructions: string | null; messages: readonly InputMessage[] }): string {
  let images = 0;
  const messages: ChatMessage[] = [];
  if (req.instructions != null && req.instructions.trim() !== "") {
    messages.push({ role: "system", content: req.instructions });
  }
  for (const m of req.messages) {
    const text = m.parts.map((part) => (part.type === "text" ? part.text : imageMarker(++images))).join("\n");
    messages.push({ role: m.role, content: text });
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
export function imageSourcesOf(messages: readonly InputMessage[]): InputImage[] {
  const parts = messages.flatMap((m) => m.parts.flatMap((p) => (p.type === "image" ? [p] : [])));
  checkImageCount(parts.length, "input");
  return parts.map((p) => ({ source: imageSourceOf(p.url, p.param), param: p.param }));
}
