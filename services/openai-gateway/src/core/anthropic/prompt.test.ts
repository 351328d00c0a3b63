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

  it("writes earlier tool rounds out: calls in the assistant's turn, results as the tool's turn before the user's text", () => {
    const { prompt: p } = prompt({
      messages: [
        { role: "user", content: "Weather and time in Sofia?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "t1", name: "get_weather", input: { city: "Sofia" } },
            { type: "tool_use", id: "t2", name: "get_time", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "12°C" },
            { type: "tool_result", tool_use_id: "t2", content: "clock down", is_error: true },
            { type: "text", text: "Also tomorrow?" },
          ],
        },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t3", name: "get_weather", input: { day: 2 } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t3", content: [{ type: "text", text: "9°C" }] }],
        },
        { role: "assistant", content: "12°C today, 9°C tomorrow." },
        { role: "user", content: "Thanks." },
      ],
    });
    expect(p).toBe(
      [
        "Answer the request below as the assistant in the conversation before it. The conversation's tool calls and their results are written out as text, for the record; to call a tool, use the tool itself, never such text.",
        [
          "<conversation>",
          "<user>\nWeather and time in Sofia?\n</user>",
          "",
          '<assistant>\nLet me check.\n[called get_weather {"city":"Sofia"}]\n[called get_time {}]\n</assistant>',
          "",
          "<tool>\n[get_weather result: 12°C]\n[get_time error: clock down]\n</tool>",
          "",
          "<user>\nAlso tomorrow?\n</user>",
          "",
          '<assistant>\n[called get_weather {"day":2}]\n</assistant>',
          "",
          "<tool>\n[get_weather result: 9°C]\n</tool>",
          "",
          "<assistant>\n12°C today, 9°C tomorrow.\n</assistant>",
          "</conversation>",
        ].join("\n"),
        "<request>\nThanks.\n</request>",
      ].join("\n\n"),
    );
  });

  it("a conversation that ends with tool results (a continuation) is all conversation", () => {
    const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
    const id = `call_${JOB.replaceAll("-", "")}_toolu_01`;
    const { prompt: p } = prompt({
      messages: [
        { role: "user", content: "Go." },
        { role: "assistant", content: [{ type: "tool_use", id, name: "f", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "done" }] },
      ],
    });
    expect(p).toMatch(/^Continue the conversation below as the assistant: /);
    expect(p).toMatch(/<tool>\n\[f result: done\]\n<\/tool>\n<\/conversation>$/);
  });

  it("refuses more images than a job carries", () => {
    const many = Array.from({ length: MAX_JOB_IMAGES + 1 }, () => image(PNG));
    expect(() => prompt({ messages: [{ role: "user", content: many }] })).toThrow(InvalidRequestError);
  });
});
