import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import { paramOf, parseChatRequest } from "./request.js";

const user = { role: "user", content: "Hi" };
const ok = { model: "claude-haiku-4-5", messages: [user] };

function refusal(body: unknown): InvalidRequestError {
  try {
    parseChatRequest(body);
  } catch (err) {
    if (err instanceof InvalidRequestError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("parseChatRequest: accepted", () => {
  it("reads the minimal request", () => {
    expect(parseChatRequest(ok)).toEqual({
      model: "claude-haiku-4-5",
      messages: [user],
      images: [],
      jsonSchema: undefined,
      stream: false,
      includeUsage: false,
      stop: [],
    });
  });

  it("replaces each image by a marker, in order, and keeps the images", () => {
    const png = "data:image/png;base64,QUJD";
    const req = parseChatRequest({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: png } }] },
        { role: "assistant", content: "A cat." },
        {
          role: "user",
          content: [
            { type: "text", text: "And these?" },
            { type: "image_url", image_url: { url: "data:image/jpeg;base64,REVG", detail: "low" } },
            { type: "image_url", image_url: { url: "https://img.example/x.png" } },
          ],
        },
      ],
    });
    expect(req.messages[0]?.content).toEqual([{ type: "text", text: "[image 1]" }]);
    expect(req.messages[2]?.content).toEqual([
      { type: "text", text: "And these?" },
      { type: "text", text: "[image 2]" },
      { type: "text", text: "[image 3]" },
    ]);
    expect(req.images.map((i) => [i.source.kind, i.param])).toEqual([
      ["inline", "messages[0].content[0].image_url.url"],
      ["inline", "messages[2].content[1].image_url.url"],
      ["remote", "messages[2].content[2].image_url.url"],
    ]);
    expect(req.images[1]?.source).toEqual({
      kind: "inline",
      image: { mediaType: "image/jpeg", data: "REVG" },
    });
  });

  it("refuses more than 20 images", () => {
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,QUJD" } };
    expect(() =>
      parseChatRequest({ messages: [{ role: "user", content: Array.from({ length: 21 }, () => image) }] }),
    ).toThrow(/at most 20/);
  });

  it.each([
    [{ type: "text" }, undefined],
    [{ type: "json_object" }, { type: "object" }],
    [
      { type: "json_schema", json_schema: { name: "p", schema: { type: "object", required: ["a"] } } },
      { type: "object", required: ["a"] },
    ],
    [{ type: "json_schema", json_schema: { name: "p", strict: true } }, { type: "object" }],
  ])("reads response_format %o as the schema %o", (format, schema) => {
    expect(parseChatRequest({ ...ok, response_format: format }).jsonSchema).toEqual(schema);
  });

  it.each<[string, Record<string, unknown>, Partial<ReturnType<typeof parseChatRequest>>]>([
    ["no model", { messages: [user] }, { model: undefined }],
    ["an empty model", { model: "", messages: [user] }, { model: undefined }],
    ["a null model", { model: null, messages: [user] }, { model: undefined }],
    [
      "stream with usage",
      { ...ok, stream: true, stream_options: { include_usage: true } },
      { stream: true, includeUsage: true },
    ],
    ["one stop string", { ...ok, stop: "END" }, { stop: ["END"] }],
    ["stop list without empties", { ...ok, stop: ["a", "", "b"] }, { stop: ["a", "b"] }],
    ["null stop", { ...ok, stop: null }, { stop: [] }],
  ])("%s", (_name, body, expected) => {
    expect(parseChatRequest(body)).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>]>([
    [
      "sampling knobs (ignored)",
      { temperature: 0.2, top_p: 0.9, presence_penalty: 1, frequency_penalty: -1, seed: 7 },
    ],
    ["length limits (ignored)", { max_tokens: 100, max_completion_tokens: 200 }],
    ["n = 1", { n: 1 }],
    ["metadata and store", { metadata: { team: "a" }, store: false }],
    [
      "tool settings that ask for nothing",
      { tools: [], tool_choice: "none", parallel_tool_calls: false, functions: [] },
    ],
    ["logprobs off", { logprobs: false, top_logprobs: 0, logit_bias: {} }],
    ["text response format", { response_format: { type: "text" } }],
    ["text modality", { modalities: ["text"] }],
    ["service tier and reasoning effort", { service_tier: "auto", reasoning_effort: "low" }],
    ["an end-user id (accepted, not used)", { user: "u-1" }],
    [
      "nulls everywhere OpenAI allows them",
      { n: null, temperature: null, stop: null, stream: null, user: null },
    ],
  ])("accepts %s", (_name, extra) => {
    expect(() => parseChatRequest({ ...ok, ...extra })).not.toThrow();
  });

  it("accepts every role, names, text parts and an assistant without content", () => {
    const req = parseChatRequest({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use English." }] },
        { role: "user", content: "Hi", name: "ada" },
        { role: "assistant", content: null, refusal: null },
        { role: "assistant", content: [{ type: "text", text: "Hello" }], name: "bot" },
        { role: "user", content: [{ type: "text", text: "Again" }] },
      ],
    });
    expect(req.messages).toHaveLength(6);
  });
});

describe("parseChatRequest: refused with the offending param", () => {
  it.each<[string, unknown, string | null, string]>([
    ["a body that is not an object", "hi", null, "invalid_json"],
    ["no messages", { model: "m" }, "messages", "invalid_value"],
    ["empty messages", { messages: [] }, "messages", "invalid_value"],
    ["an unknown field", { ...ok, temprature: 1 }, "temprature", "unknown_parameter"],
    [
      "an unknown message field",
      { messages: [{ ...user, extra: 1 }] },
      "messages[0].extra",
      "unknown_parameter",
    ],
    ["an unknown role", { messages: [{ role: "robot", content: "x" }] }, "messages[0].role", "invalid_value"],
    [
      "content of the wrong type",
      { messages: [{ role: "user", content: 5 }] },
      "messages[0].content",
      "invalid_value",
    ],
    [
      "a text part without text",
      { messages: [{ role: "user", content: [{ type: "text" }] }] },
      "messages[0].content[0].text",
      "invalid_value",
    ],
    [
      "a text part with an unknown field",
      { messages: [{ role: "user", content: [{ type: "text", text: "x", cache: 1 }] }] },
      "messages[0].content[0].cache",
      "unknown_parameter",
    ],
    ["n > 1", { ...ok, n: 2 }, "n", "unsupported_parameter"],
    [
      "tools",
      { ...ok, tools: [{ type: "function", function: { name: "f" } }] },
      "tools",
      "unsupported_parameter",
    ],
    ["functions", { ...ok, functions: [{ name: "f" }] }, "functions", "unsupported_parameter"],
    ["tool_choice auto", { ...ok, tool_choice: "auto" }, "tool_choice", "unsupported_parameter"],
    ["function_call", { ...ok, function_call: "auto" }, "function_call", "unsupported_parameter"],
    ["logprobs", { ...ok, logprobs: true }, "logprobs", "unsupported_parameter"],
    ["top_logprobs", { ...ok, top_logprobs: 3 }, "top_logprobs", "unsupported_parameter"],
    ["logit_bias", { ...ok, logit_bias: { "42": -100 } }, "logit_bias", "unsupported_parameter"],
    [
      "an unknown response format",
      { ...ok, response_format: { type: "xml" } },
      "response_format.type",
      "unsupported_parameter",
    ],
    [
      "a json_schema whose schema is not an object schema",
      {
        ...ok,
        response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string" } } },
      },
      "response_format.json_schema.schema",
      "invalid_json_schema",
    ],
    [
      "a json_schema whose schema is invalid",
      { ...ok, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: 5 } } } },
      "response_format.json_schema.schema",
      "invalid_json_schema",
    ],
    [
      "a json_schema without a name",
      { ...ok, response_format: { type: "json_schema", json_schema: { schema: { type: "object" } } } },
      "response_format.json_schema.name",
      "invalid_value",
    ],
    ["audio modality", { ...ok, modalities: ["text", "audio"] }, "modalities", "unsupported_parameter"],
    ["audio output", { ...ok, audio: { voice: "alloy", format: "mp3" } }, "audio", "unsupported_parameter"],
    [
      "prediction",
      { ...ok, prediction: { type: "content", content: "x" } },
      "prediction",
      "unsupported_parameter",
    ],
    ["web search", { ...ok, web_search_options: {} }, "web_search_options", "unsupported_parameter"],
    [
      "stream_options without stream",
      { ...ok, stream_options: { include_usage: true } },
      "stream_options",
      "unsupported_parameter",
    ],
    ["more than 4 stop sequences", { ...ok, stop: ["a", "b", "c", "d", "e"] }, "stop", "invalid_value"],
    ["temperature out of range", { ...ok, temperature: 3 }, "temperature", "invalid_value"],
    [
      "an image URL that is not a URL",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "see" },
              { type: "image_url", image_url: { url: "x" } },
            ],
          },
        ],
      },
      "messages[0].content[1].image_url.url",
      "invalid_image_url",
    ],
    [
      "an image in an assistant message",
      {
        messages: [
          {
            role: "assistant",
            content: [{ type: "image_url", image_url: { url: "data:image/png;base64,QUJD" } }],
          },
          { role: "user", content: "hi" },
        ],
      },
      "messages[0].content[0].type",
      "unsupported_parameter",
    ],
    [
      "an image of an unsupported type",
      {
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,QUJD" } }],
          },
        ],
      },
      "messages[0].content[0].image_url.url",
      "unsupported_image_type",
    ],
    [
      "an audio part",
      {
        messages: [
          { role: "user", content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }] },
        ],
      },
      "messages[0].content[0].type",
      "unsupported_parameter",
    ],
    [
      "a tool message",
      { messages: [user, { role: "tool", tool_call_id: "t", content: "x" }, user] },
      "messages[1].role",
      "unsupported_parameter",
    ],
    [
      "a function message",
      { messages: [{ role: "function", name: "f", content: "x" }, user] },
      "messages[0].role",
      "unsupported_parameter",
    ],
    [
      "assistant tool calls",
      { messages: [user, { role: "assistant", content: null, tool_calls: [{ id: "c" }] }, user] },
      "messages[1].tool_calls",
      "unsupported_parameter",
    ],
    [
      "ending with the assistant",
      { messages: [user, { role: "assistant", content: "Hi" }] },
      "messages",
      "unsupported_parameter",
    ],
    [
      "ending with a system message",
      { messages: [user, { role: "system", content: "x" }] },
      "messages",
      "unsupported_parameter",
    ],
    [
      "an empty last user message",
      { messages: [{ role: "user", content: "  " }] },
      "messages[0].content",
      "unsupported_parameter",
    ],
    [
      "a bad name",
      { messages: [{ role: "user", content: "x", name: "a b" }] },
      "messages[0].name",
      "invalid_value",
    ],
  ])("%s", (_name, body, param, code) => {
    const err = refusal(body);
    expect(err.status).toBe(400);
    expect(err.body().error).toMatchObject({ type: "invalid_request_error", param, code });
    expect(err.message.length).toBeGreaterThan(0);
  });

  it("words an unknown field as OpenAI does", () => {
    expect(refusal({ ...ok, foo: 1 }).message).toBe("Unrecognized request argument supplied: foo");
  });
});

describe("paramOf", () => {
  it.each<[PropertyKey[], string | null]>([
    [[], null],
    [["n"], "n"],
    [["messages", 0], "messages[0]"],
    [["messages", 2, "content", 1, "type"], "messages[2].content[1].type"],
  ])("%j → %s", (path, param) => {
    expect(paramOf(path)).toBe(param);
  });
});
