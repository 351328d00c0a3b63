import type { ImageMediaType } from "@claude-gateway/contracts";

/** An image for the model, base64-encoded, as the Messages API takes it. */
export interface ImageInput {
  mediaType: ImageMediaType;
  /** Base64 of the image's bytes. */
  data: string;
}

/** One user message on the CLI's stdin with `--input-format stream-json`. */
export interface UserMessageLine {
  type: "user";
  message: {
    role: "user";
    content:
      | string
      | Array<
          | { type: "image"; source: { type: "base64"; media_type: ImageMediaType; data: string } }
          | { type: "text"; text: string }
        >;
  };
}

/**
 * The user message of a turn: the prompt alone as a string, or — with images — one content block
 * per image, in order, then the prompt's text block last (the model reads the images first, as the
 * Messages API recommends).
 */
export function userMessage(prompt: string, images: readonly ImageInput[] = []): UserMessageLine {
  if (images.length === 0) return { type: "user", message: { role: "user", content: prompt } };
  return {
    type: "user",
    message: {
      role: "user",
      content: [
        ...images.map((i) => ({
          type: "image" as const,
          source: { type: "base64" as const, media_type: i.mediaType, data: i.data },
        })),
        { type: "text" as const, text: prompt },
      ],
    },
  };
}

/** The stdin of a one-turn `-p --input-format stream-json` run: the message's line, then EOF. */
export function userMessageInput(prompt: string, images: readonly ImageInput[] = []): string {
  return `${JSON.stringify(userMessage(prompt, images))}\n`;
}
