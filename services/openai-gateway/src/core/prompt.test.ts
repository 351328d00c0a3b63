import { describe, expect, it } from "vitest";
import { buildPrompt } from "./prompt.js";
import type { ChatMessage } from "./request.js";
import { textOf } from "./request.js";

const u = (content: ChatMessage["content"], name?: string): ChatMessage =>
  ({ role: "user", content, ...(name ? { name } : {}) }) as ChatMessage;
const a = (content: ChatMessage["content"]): ChatMessage => ({ role: "assistant", content });
const s = (content: string): ChatMessage => ({ role: "system", content });
const d = (content: string): ChatMessage => ({ role: "developer", content });

describe("buildPrompt", () => {
  it.each<[string, ChatMessage[], string]>([
    ["a lone user message, verbatim", [u("What is 2+2?")], "What is 2+2?"],
    [
      "text parts joined by newlines",
      [
        u([
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ]),
      ],
      "a\nb",
    ],
    [
      "instructions only",
      [s("Be brief."), d("Answer in English."), u("Hi")],
      [
        "Answer the request below, following the instructions.",
        "<instructions>\nBe brief.\n\nAnswer in English.\n</instructions>",
        "<request>\nHi\n</request>",
      ].join("\n\n"),
    ],
    [
      "earlier turns only",
      [u("My name is Ada."), a("Noted."), u("What is my name?")],
      [
        "Answer the request below as the assistant in the conversation before it.",
        "<conversation>\n<user>\nMy name is Ada.\n</user>\n\n<assistant>\nNoted.\n</assistant>\n</conversation>",
        "<request>\nWhat is my name?\n</request>",
      ].join("\n\n"),
    ],
    [
      "everything, with a system message in the middle gathered into the instructions",
      [s("Be brief."), u("Hi", "ada"), a("Hello."), d("Use French."), u("Bye")],
      [
        "Answer the request below as the assistant in the conversation before it, following the instructions.",
        "<instructions>\nBe brief.\n\nUse French.\n</instructions>",
        '<conversation>\n<user name="ada">\nHi\n</user>\n\n<assistant>\nHello.\n</assistant>\n</conversation>',
        "<request>\nBye\n</request>",
      ].join("\n\n"),
    ],
    ["empty instructions and empty assistant turns leave no trace", [s("  "), a(null), a(""), u("Hi")], "Hi"],
    [
      "consecutive user messages: only the last is the request",
      [u("first"), u("second")],
      [
        "Answer the request below as the assistant in the conversation before it.",
        "<conversation>\n<user>\nfirst\n</user>\n</conversation>",
        "<request>\nsecond\n</request>",
      ].join("\n\n"),
    ],
  ])("%s", (_name, messages, expected) => {
    expect(buildPrompt(messages)).toBe(expected);
  });

  it("refuses a conversation that does not end with the user", () => {
    expect(() => buildPrompt([u("Hi"), a("Hello")])).toThrow(/end with a user message/);
    expect(() => buildPrompt([])).toThrow(/end with a user message/);
  });
});

describe("textOf", () => {
  it.each<[ChatMessage["content"] | null | undefined, string]>([
    [undefined, ""],
    [null, ""],
    ["x", "x"],
    [[{ type: "text", text: "a" }, { type: "image_url" }, { type: "text", text: "b" }], "a\nb"],
  ])("%j → %j", (content, text) => {
    expect(textOf(content)).toBe(text);
  });
});
