import { MAX_JOB_IMAGES } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
import { promptOf } from "./prompt.js";
import { parseMessagesRequest } from "./request.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
const image = (data: string, media_type = "image/png") => ({
  type: "image",
  source: { type: "base64", media_type, data },
});
const prompt = (body: Record<string, unknown>) =>
  promptOf(parseMessagesRequest({ model: "claude-haiku-4-5", max_tokens: 100, ...body }));

describe("promptOf", () => {
  it("passes a lone user message as it is", () => {
    expect(prompt({ messages: [{ role: "user", content: "Hi" }] })).toEqual({ prompt: "Hi", images: [] });
  });

  it("makes system the instructions and earlier turns the conversation, as chat completions do", () => {
    const { prompt: p } = prompt({
      system: [{ type: "text", text: "Answer in one sentence." }],
      messages: [
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: [{ type: "text", text: "Nice to meet you, Ada." }] },
        { role: "system", content: "Never use emoji." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is" },
            { type: "text", text: "my name?" },
          ],
        },
      ],
    });
    expect(p).toBe(
      [
        "Answer the request below as the assistant in the conversation before it, following the instructions.",
        "<instructions>\nAnswer in one sentence.\n\nNever use emoji.\n</instructions>",
        "<conversation>\n<user>\nMy name is Ada.\n</user>\n\n<assistant>\nNice to meet you, Ada.\n</assistant>\n</conversation>",
        "<request>\nWhat is\nmy name?\n</request>",
      ].join("\n\n"),
    );
  });

  it("replaces each image by a numbered placeholder where it was, and hands the images on in order", () => {
    const out = prompt({
      messages: [
        { role: "user", content: [image(PNG), { type: "text", text: "What is this?" }] },
        { role: "assistant", content: "A dot." },
        { role: "user", content: [{ type: "text", text: "And this one?" }, image(GIF, "image/gif")] },
      ],
    });
    expect(out.images).toEqual([
      {
        source: { kind: "inline", image: { mediaType: "image/png", data: PNG } },
        param: "messages.0.content.0.source",
      },
      {
        source: { kind: "inline", image: { mediaType: "image/gif", data: GIF } },
        param: "messages.2.content.1.source",
      },
    ]);
    expect(out.prompt).toContain("<user>\n[image 1]\nWhat is this?\n</user>");
    expect(out.prompt).toContain("<request>\nAnd this one?\n[image 2]\n</request>");
  });

  it("an image alone is a request", () => {
    expect(prompt({ messages: [{ role: "user", content: [image(PNG)] }] })).toMatchObject({
      prompt: "[image 1]",
      images: [{ source: { kind: "inline" } }],
    });
  });

  it("refuses more images than a job carries", () => {
    const many = Array.from({ length: MAX_JOB_IMAGES + 1 }, () => image(PNG));
    expect(() => prompt({ messages: [{ role: "user", content: many }] })).toThrow(InvalidRequestError);
  });
});
