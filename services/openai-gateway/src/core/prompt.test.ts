import { describe, expect, it } from "vitest";
import { buildPrompt } from "./prompt.js";
import type { ChatMessage } from "./request.js";
import { textOf } from "./request.js";

const u = (content: ChatMessage["content"], name?: string): ChatMessage =>
  ({ role: "user", content, ...(name ? { name } : {}) }) as ChatMessage;
const a = (content: ChatMessage["content"]): ChatMessage => ({ role: "assistant", content });
const s = (content: string): ChatMessage => ({ role: "system", content });
const d = (content: string): ChatMessage => ({ role: "developer", content });
const t = (name: string | undefined, content: string, isError?: boolean): ChatMessage => ({
  role: "tool",
  name,
  content,
  ...(isError ? { isError } : {}),
});

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

  it("writes earlier tool rounds out: calls in the assistant's turn, results as the tool's turn", () => {
    const calls = [
      { name: "get_weather", arguments: '{"city": "Sofia"}' },
      { name: "get_time", arguments: "{}" },
    ];
    expect(
      buildPrompt([
        u("Weather and time in Sofia?"),
        { role: "assistant", content: "Let me check.", toolCalls: calls },
        t("get_weather", "12°C"),
        t("get_time", "lookup failed", true),
        a("It is 12°C; the time I could not get."),
        { role: "assistant", content: null, toolCalls: [{ name: "get_time", arguments: "{}" }] },
        t(undefined, "09:00"),
        u("Thanks. Tomorrow?"),
      ]),
    ).toBe(
      [
        "Answer the request below as the assistant in the conversation before it. The conversation's tool calls and their results are written out as text, for the record; to call a tool, use the tool itself, never such text.",
        [
          "<conversation>",
          "<user>\nWeather and time in Sofia?\n</user>",
          "",
          '<assistant>\nLet me check.\n[called get_weather {"city":"Sofia"}]\n[called get_time {}]\n</assistant>',
          "",
          "<tool>\n[get_weather result: 12°C]\n[get_time error: lookup failed]\n</tool>",
          "",
          "<assistant>\nIt is 12°C; the time I could not get.\n</assistant>",
          "",
          "<assistant>\n[called get_time {}]\n</assistant>",
          "",
          "<tool>\n[tool result: 09:00]\n</tool>",
          "</conversation>",
        ].join("\n"),
        "<request>\nThanks. Tomorrow?\n</request>",
      ].join("\n\n"),
    );
  });

  it("a conversation that ends with tool results (a continuation) has no request", () => {
    const call: ChatMessage = { role: "assistant", content: "", toolCalls: [{ name: "f", arguments: "{}" }] };
    expect(buildPrompt([u("Go."), call, t("f", "done")])).toBe(
      [
        "Continue the conversation below as the assistant: the results of its last tool calls are in. The conversation's tool calls and their results are written out as text, for the record; to call a tool, use the tool itself, never such text.",
        "<conversation>\n<user>\nGo.\n</user>\n\n<assistant>\n[called f {}]\n</assistant>\n\n<tool>\n[f result: done]\n</tool>\n</conversation>",
      ].join("\n\n"),
    );
    expect(buildPrompt([s("Be brief."), u("Go."), call, t("f", "done")])).toMatch(
      /^Continue the conversation below as the assistant, following the instructions: the results of its last tool calls are in\. .*\n\n<instructions>\nBe brief\.\n<\/instructions>\n\n<conversation>\n/,
    );
  });

  it("refuses a conversation that does not end with the user", () => {
    expect(() => buildPrompt([u("Hi"), a("Hello")])).toThrow(/end with a user message or tool results/);
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
