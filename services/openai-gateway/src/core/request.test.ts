import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import { buildPrompt } from "./prompt.js";
import { paramOf, parseChatRequest } from "./request.js";
import { clientCallId } from "./tools/call-id.js";

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
      "a tool of another type than function",
      { ...ok, tools: [{ type: "custom", custom: { name: "f" } }] },
      "tools[0].type",
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
      "a tool message after no tool call",
      { messages: [user, { role: "tool", tool_call_id: "t", content: "x" }, user] },
      "messages[1].tool_call_id",
      "invalid_value",
    ],
    [
      "a function message",
      { messages: [{ role: "function", name: "f", content: "x" }, user] },
      "messages[0].role",
      "unsupported_parameter",
    ],
    [
      "an assistant tool call without a type",
      { messages: [user, { role: "assistant", content: null, tool_calls: [{ id: "c" }] }, user] },
      "messages[1].tool_calls[0].type",
      "invalid_value",
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

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const OTHER_JOB = "11111111-2222-4333-8444-555555555555";
const weatherSchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const weather = {
  type: "function",
  function: { name: "get_weather", description: "The weather of a city.", parameters: weatherSchema },
};
const clock = { type: "function", function: { name: "get_time", strict: false } };
/** An assistant message that called tools, as the client got it from the gateway. */
const called = (...ids: string[]) => ({
  role: "assistant",
  content: null,
  tool_calls: ids.map((id, k) => ({
    id,
    type: "function",
    function: { name: k === 0 ? "get_weather" : "get_time", arguments: k === 0 ? '{"city":"Sofia"}' : "{}" },
  })),
});
const result = (id: string, content: unknown = "12°C") => ({ role: "tool", tool_call_id: id, content });

describe("parseChatRequest: client tools", () => {
  it("offers the function tools as the job's tools", () => {
    const req = parseChatRequest({ ...ok, tools: [weather, clock] });
    expect(req.tools).toEqual([
      { name: "get_weather", description: "The weather of a city.", inputSchema: weatherSchema },
      { name: "get_time", inputSchema: { type: "object", properties: {} } },
    ]);
    expect(req.toolResults).toBeUndefined();
  });

  it.each([undefined, null, "auto"])("offers them with tool_choice %s", (tool_choice) => {
    expect(parseChatRequest({ ...ok, tools: [weather], tool_choice }).tools).toHaveLength(1);
  });

  it("does not offer them with tool_choice none, and then takes what tools would refuse", () => {
    const req = parseChatRequest({
      ...ok,
      tools: [{ type: "function", function: { name: "bad name", strict: true } }],
      tool_choice: "none",
      parallel_tool_calls: false,
      response_format: { type: "json_object" },
    });
    expect(req.tools).toBeUndefined();
    expect(req.jsonSchema).toEqual({ type: "object" });
  });

  it("takes parallel_tool_calls true and a text response format with tools", () => {
    expect(
      parseChatRequest({
        ...ok,
        tools: [weather],
        parallel_tool_calls: true,
        response_format: { type: "text" },
      }).tools,
    ).toHaveLength(1);
  });

  it("takes earlier tool rounds as the transcript of a new job", () => {
    const req = parseChatRequest({
      messages: [
        { role: "user", content: "Weather and time in Sofia?" },
        called("call_a", "call_b"),
        result("call_a"),
        result("call_b", [
          { type: "text", text: "09:00" },
          { type: "text", text: "EET" },
        ]),
        { role: "assistant", content: "12°C at 09:00." },
        { role: "user", content: "Thanks." },
      ],
      tools: [weather, clock],
    });
    expect(req.toolResults).toBeUndefined();
    expect(req.messages.slice(1, 4)).toEqual([
      {
        role: "assistant",
        content: null,
        toolCalls: [
          { name: "get_weather", arguments: '{"city":"Sofia"}' },
          { name: "get_time", arguments: "{}" },
        ],
      },
      { role: "tool", name: "get_weather", content: "12°C" },
      { role: "tool", name: "get_time", content: "09:00\nEET" },
    ]);
    const prompt = buildPrompt(req.messages);
    expect(prompt).toContain(
      '<assistant>\n[called get_weather {"city":"Sofia"}]\n[called get_time {}]\n</assistant>',
    );
    expect(prompt).toContain("<tool>\n[get_weather result: 12°C]\n[get_time result: 09:00\nEET]\n</tool>");
    expect(prompt).toMatch(/<request>\nThanks\.\n<\/request>$/);
  });

  it("takes trailing tool messages as the results for the job their calls name", () => {
    const a = clientCallId(JOB, "toolu_01");
    const b = clientCallId(JOB, "toolu_02");
    const req = parseChatRequest({
      messages: [
        { role: "user", content: "Weather and time in Sofia?" },
        called(a, b),
        result(a),
        result(b, [{ type: "text", text: "09:00" }]),
      ],
      tools: [weather, clock],
    });
    expect(req.toolResults).toEqual({
      jobId: JOB,
      results: [
        { id: "toolu_01", content: "12°C" },
        { id: "toolu_02", content: "09:00" },
      ],
      param: "messages",
    });
    // Resent with the results, the tools are still read; the prompt is the conversation.
    expect(req.tools).toHaveLength(2);
    expect(buildPrompt(req.messages)).toMatch(/^Continue the conversation below as the assistant/);
  });

  it("takes results of an earlier round only when they are the last messages", () => {
    const a = clientCallId(JOB, "toolu_01");
    const req = parseChatRequest({
      messages: [user, called(a), result(a), { role: "user", content: "More?" }],
    });
    expect(req.toolResults).toBeUndefined();
  });
});

describe("parseChatRequest: client tools refused, named", () => {
  const a = clientCallId(JOB, "toolu_01");
  it.each<[string, Record<string, unknown>, string | null, string, string | RegExp]>([
    [
      "strict: true",
      { ...ok, tools: [{ type: "function", function: { name: "f", strict: true } }] },
      "tools[0].function.strict",
      "unsupported_parameter",
      /^strict: true is not supported/,
    ],
    [
      "a name the CLI cannot carry",
      { ...ok, tools: [{ type: "function", function: { name: "x".repeat(52) } }] },
      "tools[0].function.name",
      "invalid_value",
      /is not a usable tool name: a name is 1 to 51 letters/,
    ],
    [
      "a name given twice",
      { ...ok, tools: [weather, clock, weather] },
      "tools[2].function.name",
      "invalid_value",
      "'get_weather' is also the name of tools[0].function.name: each tool needs a name of its own.",
    ],
    [
      "a tool without a name",
      { ...ok, tools: [{ type: "function", function: {} }] },
      "tools[0].function.name",
      "invalid_value",
      /^Invalid value for 'tools\[0\]\.function\.name'/,
    ],
    [
      "a tool without its function",
      { ...ok, tools: [{ type: "function" }] },
      "tools[0].function",
      "invalid_value",
      /^Invalid value for 'tools\[0\]\.function'/,
    ],
    [
      "an unknown field of a function",
      { ...ok, tools: [{ type: "function", function: { name: "f", examples: [] } }] },
      "tools[0].function.examples",
      "unknown_parameter",
      "Unrecognized request argument supplied: examples",
    ],
    [
      "a schema that is not one of an object",
      { ...ok, tools: [{ type: "function", function: { name: "f", parameters: { type: "array" } } }] },
      "tools[0].function.parameters",
      "invalid_json_schema",
      /top level must be `"type": "object"`/,
    ],
    [
      "tool_choice required",
      { ...ok, tools: [weather], tool_choice: "required" },
      "tool_choice",
      "unsupported_parameter",
      "tool_choice 'required' is not supported: the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'.",
    ],
    [
      "tool_choice naming a function",
      { ...ok, tools: [weather], tool_choice: { type: "function", function: { name: "get_weather" } } },
      "tool_choice",
      "unsupported_parameter",
      "tool_choice naming a tool is not supported: the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'.",
    ],
    [
      "tool_choice allowed_tools",
      {
        ...ok,
        tools: [weather],
        tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [] } },
      },
      "tool_choice",
      "unsupported_parameter",
      "tool_choice 'allowed_tools' is not supported: offer only the tools the model may call.",
    ],
    [
      "parallel_tool_calls: false",
      { ...ok, tools: [weather], parallel_tool_calls: false },
      "parallel_tool_calls",
      "unsupported_parameter",
      "parallel_tool_calls: false is not supported: the model may call several tools at once, and that cannot be turned off.",
    ],
    [
      "tools with a json_schema response format",
      {
        ...ok,
        tools: [weather],
        response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } },
      },
      "response_format",
      "unsupported_parameter",
      "response_format 'json_schema' cannot be combined with tools: a request either offers tools or asks for a structured answer, not both.",
    ],
    [
      "tools with JSON mode",
      { ...ok, tools: [weather], response_format: { type: "json_object" } },
      "response_format",
      "unsupported_parameter",
      /^response_format 'json_object' cannot be combined with tools/,
    ],
    [
      "a call of a custom tool in the conversation",
      {
        messages: [
          user,
          { role: "assistant", tool_calls: [{ id: "c", type: "custom", custom: { name: "f", input: "x" } }] },
          user,
        ],
      },
      "messages[1].tool_calls[0].type",
      "unsupported_parameter",
      "Tool calls of type 'custom' are not supported; only 'function' calls are.",
    ],
    [
      "a call whose function has an unknown field",
      {
        messages: [
          user,
          {
            role: "assistant",
            tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}", x: 1 } }],
          },
          user,
        ],
      },
      "messages[1].tool_calls[0].function.x",
      "unknown_parameter",
      "Unrecognized request argument supplied: x",
    ],
    [
      "a result of a call the assistant message before did not make",
      { messages: [user, called("call_a"), result("call_b"), user] },
      "messages[2].tool_call_id",
      "invalid_value",
      "'call_b' answers no tool call of the assistant message before it: a 'tool' message follows an assistant message with tool_calls and gives the result of one of them.",
    ],
    [
      "a result after a user message",
      { messages: [user, called("call_a"), user, result("call_a")] },
      "messages[3].tool_call_id",
      "invalid_value",
      /answers no tool call of the assistant message before it/,
    ],
    [
      "an image in a tool message",
      {
        messages: [
          user,
          called("call_a"),
          result("call_a", [{ type: "image_url", image_url: { url: "data:image/png;base64,QUJD" } }]),
          user,
        ],
      },
      "messages[2].content[0].type",
      "unsupported_parameter",
      "Images are taken in user messages only, not in 'tool' messages.",
    ],
    [
      "a tool message without its call id",
      { messages: [user, called("call_a"), { role: "tool", content: "x" }] },
      "messages[2].tool_call_id",
      "invalid_value",
      /^Invalid value for 'messages\[2\]\.tool_call_id'/,
    ],
    [
      "a conversation that ends with the calls, not their results",
      { messages: [user, called(a)] },
      "messages",
      "unsupported_parameter",
      "The conversation must end with a user message (or with 'tool' messages that answer tool calls); it ends with 'assistant'.",
    ],
    [
      "results for calls the gateway did not make",
      { messages: [user, called("call_a"), result("call_a")] },
      "messages[2].tool_call_id",
      "invalid_tool_call_id",
      "'call_a' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
    ],
    [
      "results for calls of two responses",
      {
        messages: [
          user,
          called(a, clientCallId(OTHER_JOB, "toolu_02")),
          result(a),
          result(clientCallId(OTHER_JOB, "toolu_02")),
        ],
      },
      "messages[3].tool_call_id",
      "invalid_value",
      /are calls of different responses/,
    ],
    [
      "the legacy functions",
      { ...ok, functions: [{ name: "f" }] },
      "functions",
      "unsupported_parameter",
      "The legacy 'functions' are not supported; send them as 'tools'.",
    ],
  ])("%s", (_name, body, param, code, message) => {
    const err = refusal(body);
    expect(err.status).toBe(400);
    expect(err.body().error).toMatchObject({ type: "invalid_request_error", param, code });
    if (typeof message === "string") expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });
});
