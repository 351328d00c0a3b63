import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
import { clientCallId } from "../tools/call-id.js";
import { parseMessagesRequest } from "./request.js";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const user = { role: "user", content: "Hi" } as const;
/** The smallest request the SDK's types allow. */
const ok = {
  model: "claude-haiku-4-5",
  max_tokens: 1024,
  messages: [user],
} satisfies Anthropic.MessageCreateParamsNonStreaming;

function refusal(body: unknown): InvalidRequestError {
  try {
    parseMessagesRequest(body);
  } catch (err) {
    if (err instanceof InvalidRequestError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("parseMessagesRequest: accepted", () => {
  it("reads the minimal request", () => {
    expect(parseMessagesRequest(ok)).toEqual({
      model: "claude-haiku-4-5",
      stream: false,
      stop: [],
      system: undefined,
      turns: [{ role: "user", parts: [{ type: "text", text: "Hi" }] }],
      jsonSchema: undefined,
    });
  });

  it("reads system (a string or text blocks), stop sequences and stream", () => {
    expect(
      parseMessagesRequest({ ...ok, system: "Be brief.", stop_sequences: ["END"], stream: true }),
    ).toMatchObject({ system: "Be brief.", stop: ["END"], stream: true });
    expect(
      parseMessagesRequest({
        ...ok,
        system: [
          { type: "text", text: "One." },
          { type: "text", text: "Two.", cache_control: { type: "ephemeral" } },
        ],
      }).system,
    ).toBe("One.\nTwo.");
  });

  it("keeps the conversation's blocks in order: text and base64 images; drops earlier thinking", () => {
    const req = parseMessagesRequest({
      ...ok,
      messages: [
        { role: "user", content: [{ type: "text", text: "Look:" }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "redacted_thinking", data: "xyz" },
            { type: "text", text: "At what?" },
          ],
        },
        { role: "system", content: "Be kind." },
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "text", text: "This.", citations: null },
          ],
        },
      ],
    } satisfies Anthropic.MessageCreateParamsNonStreaming);
    expect(req.turns).toEqual([
      { role: "user", parts: [{ type: "text", text: "Look:" }] },
      { role: "assistant", parts: [{ type: "text", text: "At what?" }] },
      { role: "system", parts: [{ type: "text", text: "Be kind." }] },
      {
        role: "user",
        parts: [
          {
            type: "image",
            source: { kind: "inline", image: { mediaType: "image/png", data: PNG } },
            param: "messages.3.content.0.source",
          },
          { type: "text", text: "This." },
        ],
      },
    ]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["sampling knobs (ignored)", { temperature: 0.5, top_p: 0.9, top_k: 40 }],
    ["metadata.user_id", { metadata: { user_id: "u-123" } }],
    ["service tier and speed", { service_tier: "standard_only", speed: "fast" }],
    ["prompt caching", { cache_control: { type: "ephemeral", ttl: "1h" } }],
    ["diagnostics", { diagnostics: { previous_message_id: null } }],
    ["effort", { output_config: { effort: "low" } }],
    ["tool settings that ask for nothing", { tools: [], tool_choice: { type: "none" } }],
    ["tool_choice auto without tools", { tool_choice: { type: "auto", disable_parallel_tool_use: true } }],
    ["thinking disabled", { thinking: { type: "disabled" } }],
    ["adaptive thinking (the agent decides; none is returned)", { thinking: { type: "adaptive" } }],
    ["an empty list of MCP servers", { mcp_servers: [] }],
    ["max_tokens far above what the answer takes", { max_tokens: 128_000 }],
  ])("%s", (_name, extra) => {
    expect(() => parseMessagesRequest({ ...ok, ...extra })).not.toThrow();
  });

  it("takes the structured-output schema from output_config.format, or the beta's output_format", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    expect(
      parseMessagesRequest({ ...ok, output_config: { format: { type: "json_schema", schema } } }).jsonSchema,
    ).toEqual(schema);
    expect(
      parseMessagesRequest({ ...ok, output_format: { type: "json_schema", schema } }).jsonSchema,
    ).toEqual(schema);
  });
});

describe("parseMessagesRequest: refused, naming the field", () => {
  it.each<[string, Record<string, unknown>, string, string]>([
    ["a missing model", { model: undefined }, "model: Field required", "invalid_value"],
    ["a missing max_tokens", { max_tokens: undefined }, "max_tokens: Field required", "invalid_value"],
    [
      "max_tokens 0",
      { max_tokens: 0 },
      "max_tokens: 0 (warming the prompt cache without an answer) is not supported",
      "unsupported_parameter",
    ],
    [
      "an unknown field",
      { frobnicate: 1 },
      "frobnicate: Extra inputs are not permitted",
      "unknown_parameter",
    ],
    [
      "an agent in metadata",
      { metadata: { agent: "general" } },
      "metadata.agent: Extra inputs are not permitted (choose the agent with the x-claude-agent header)",
      "unknown_parameter",
    ],
    [
      "a server tool",
      { tools: [{ type: "web_search_20250305", name: "web_search" }] },
      "tools.0.type: 'web_search_20250305' tools are not supported: the gateway runs no server tools; define your own (name, description, input_schema) and run it.",
      "unsupported_parameter",
    ],
    ["tool_choice any", { tool_choice: { type: "any" } }, "tool_choice: 'any'", "unsupported_parameter"],
    [
      "tool_choice of one tool",
      { tool_choice: { type: "tool", name: "f" } },
      "tool_choice: 'tool'",
      "unsupported_parameter",
    ],
    [
      "extended thinking",
      { thinking: { type: "enabled", budget_tokens: 2048 } },
      "thinking: extended thinking is not supported",
      "unsupported_parameter",
    ],
    [
      "MCP servers",
      { mcp_servers: [{ type: "url", url: "https://x", name: "x" }] },
      "mcp_servers:",
      "unsupported_parameter",
    ],
    ["a container", { container: "cntr_1" }, "container:", "unsupported_parameter"],
    ["an inference region", { inference_geo: "eu" }, "inference_geo:", "unsupported_parameter"],
    ["temperature out of range", { temperature: 1.5 }, "temperature:", "invalid_value"],
    [
      "an empty conversation",
      { messages: [] },
      "messages: at least one message is required",
      "invalid_value",
    ],
    [
      "a whitespace stop sequence",
      { stop_sequences: [" "] },
      "stop_sequences.0: each stop sequence must contain non-whitespace",
      "invalid_value",
    ],
    [
      "a text format that is not a schema",
      { output_config: { format: { type: "text" } } },
      "output_config.format.type:",
      "invalid_value",
    ],
    [
      "both names of the output format",
      {
        output_config: { format: { type: "json_schema", schema: { type: "object" } } },
        output_format: { type: "json_schema", schema: { type: "object" } },
      },
      "output_format: give the format once",
      "invalid_value",
    ],
    [
      "an invalid JSON schema",
      { output_config: { format: { type: "json_schema", schema: { type: "nonsense" } } } },
      "Invalid JSON schema in 'output_config.format.schema'",
      "invalid_json_schema",
    ],
  ])("%s", (_name, extra, message, code) => {
    const err = refusal({ ...ok, ...extra });
    expect(err.status).toBe(400);
    expect(err.message).toContain(message);
    expect(err.code).toBe(code);
  });

  it("a body that is not an object", () => {
    expect(refusal([1, 2]).code).toBe("invalid_json");
  });

  it.each<[string, unknown, string, string]>([
    [
      "a role other than user, assistant or system",
      { role: "tool", content: "x" },
      "messages.0.role:",
      "invalid_value",
    ],
    [
      "an unknown field on a message",
      { ...user, name: "ada" },
      "messages.0.name: Extra inputs",
      "unknown_parameter",
    ],
    [
      "a tool_result block that answers no call",
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "42" }] },
      "messages.0.content.0.tool_use_id: 't1' answers no tool_use block of the previous message",
      "invalid_value",
    ],
    [
      "a document block",
      {
        role: "user",
        content: [{ type: "document", source: { type: "text", media_type: "text/plain", data: "x" } }],
      },
      "messages.0.content.0.type: document blocks are not supported",
      "unsupported_parameter",
    ],
    [
      "an image from the Files API",
      { role: "user", content: [{ type: "image", source: { type: "file", file_id: "file_1" } }] },
      "messages.0.content.0.source.type: 'file' image sources are not supported; send the image as base64 or a URL.",
      "unsupported_parameter",
    ],
    [
      "an image of another type",
      {
        role: "user",
        content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: PNG } }],
      },
      "messages.0.content.0.source.media_type:",
      "invalid_value",
    ],
    [
      "an image whose data is not base64",
      {
        role: "user",
        content: [
          { type: "image", source: { type: "base64", media_type: "image/png", data: "not base64!" } },
        ],
      },
      "The image in 'messages.0.content.0.source' is not valid base64.",
      "invalid_image",
    ],
    [
      "an image URL that is not http(s)",
      { role: "user", content: [{ type: "image", source: { type: "url", url: "file:///etc/passwd" } }] },
      "Image URLs are data: or http(s): URLs",
      "invalid_image_url",
    ],
    [
      "an image that asks to be refused when large",
      {
        role: "user",
        content: [
          {
            type: "image",
            source: { type: "base64", media_type: "image/png", data: PNG },
            transformations: { oversized_image: "error" },
          },
        ],
      },
      "messages.0.content.0.transformations.oversized_image:",
      "unsupported_parameter",
    ],
    [
      "an unknown field on a text block",
      { role: "user", content: [{ type: "text", text: "x", colour: "red" }] },
      "messages.0.content.0.colour: Extra inputs are not permitted",
      "unknown_parameter",
    ],
    [
      "an empty text block",
      { role: "user", content: [{ type: "text", text: "" }] },
      "messages.0.content.0.text: text content blocks must be non-empty",
      "invalid_value",
    ],
    [
      "a block type nobody knows",
      { role: "user", content: [{ type: "hologram" }] },
      "messages.0.content.0.type: 'hologram' blocks are not supported in user messages.",
      "unsupported_parameter",
    ],
  ])("%s", (_name, message, text, code) => {
    const err = refusal({ ...ok, messages: [message, user] });
    expect(err.message).toContain(text);
    expect(err.code).toBe(code);
  });

  it.each<[string, unknown[], string]>([
    [
      "a conversation that ends with the assistant (prefill)",
      [user, { role: "assistant", content: "The answer is" }],
      "messages.1.role: the conversation must end with a user message; it ends with 'assistant'",
    ],
    [
      "an empty last user message",
      [{ role: "user", content: "  " }],
      "messages.0.content: the last user message is empty.",
    ],
    [
      "a tool_use block of the user's",
      [{ role: "user", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] }, user],
      "messages.0.content.0.type: tool_use blocks are taken in assistant messages only: they are the model's calls.",
    ],
    [
      "an image in an assistant message",
      [
        {
          role: "assistant",
          content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }],
        },
        user,
      ],
      "messages.0.content.0.type: 'image' blocks are not supported in assistant messages.",
    ],
    [
      "a server tool's result",
      [
        { role: "assistant", content: [{ type: "web_search_tool_result", tool_use_id: "t", content: [] }] },
        user,
      ],
      "messages.0.content.0.type: server tool results are not supported.",
    ],
  ])("%s", (_name, messages, text) => {
    expect(refusal({ ...ok, messages }).message).toContain(text);
  });

  it("an image URL is the gateway's to fetch (or refuse) later: parsed as a remote source", () => {
    const req = parseMessagesRequest({
      ...ok,
      messages: [
        {
          role: "user",
          content: [{ type: "image", source: { type: "url", url: "https://img.test/a.png" } }],
        },
      ],
    });
    expect(req.turns[0]?.parts).toEqual([
      {
        type: "image",
        source: { kind: "remote", url: new URL("https://img.test/a.png") },
        param: "messages.0.content.0.source",
      },
    ]);
  });

  it("a system block that is not text", () => {
    const err = refusal({ ...ok, system: [{ type: "image", source: {} }] });
    expect(err.message).toBe("system.0.type: 'image' blocks are not supported in system; send text.");
  });
});

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const OTHER_JOB = "11111111-2222-4333-8444-555555555555";
const weatherSchema = {
  type: "object" as const,
  properties: { city: { type: "string" } },
  required: ["city"],
};
const weather = { name: "get_weather", description: "The weather of a city.", input_schema: weatherSchema };
const clock = { type: "custom" as const, name: "get_time", input_schema: { type: "object" as const } };
/** An assistant message that called tools, as the SDK gives it back (`caller` included). */
const called = (...ids: string[]): Anthropic.MessageParam => ({
  role: "assistant",
  content: [
    { type: "text", text: "Let me check.", citations: null },
    ...ids.map(
      (id, k): Anthropic.ToolUseBlockParam => ({
        type: "tool_use",
        id,
        name: k === 0 ? "get_weather" : "get_time",
        input: k === 0 ? { city: "Sofia" } : {},
        caller: { type: "direct" },
      }),
    ),
  ],
});
const result = (
  id: string,
  content: unknown = "12°C",
  extra: Partial<Anthropic.ToolResultBlockParam> = {},
): Anthropic.ToolResultBlockParam => ({
  type: "tool_result",
  tool_use_id: id,
  content: content as Anthropic.ToolResultBlockParam["content"],
  ...extra,
});

describe("parseMessagesRequest: client tools", () => {
  it("offers the caller's tools as the job's tools (hints accepted and ignored)", () => {
    const req = parseMessagesRequest({
      ...ok,
      tools: [
        { ...weather, cache_control: { type: "ephemeral" }, eager_input_streaming: true, strict: false },
        { ...clock, input_examples: [{}], allowed_callers: ["direct"], defer_loading: false },
      ],
    } satisfies Anthropic.MessageCreateParamsNonStreaming);
    expect(req.tools).toEqual([
      { name: "get_weather", description: "The weather of a city.", inputSchema: weatherSchema },
      { name: "get_time", inputSchema: { type: "object" } },
    ]);
    expect(req.toolResults).toBeUndefined();
  });

  it.each([undefined, { type: "auto" }, { type: "auto", disable_parallel_tool_use: false }])(
    "offers them with tool_choice %o",
    (tool_choice) => {
      expect(parseMessagesRequest({ ...ok, tools: [weather], tool_choice }).tools).toHaveLength(1);
    },
  );

  it("with tool_choice none offers none, and takes a structured output format", () => {
    const req = parseMessagesRequest({
      ...ok,
      tools: [weather],
      tool_choice: { type: "none" },
      output_config: { format: { type: "json_schema", schema: weatherSchema } },
    });
    expect(req.tools).toBeUndefined();
    expect(req.jsonSchema).toEqual(weatherSchema);
  });

  it("reads earlier tool rounds: calls of the assistant, results (and text after them) of the user", () => {
    const req = parseMessagesRequest({
      ...ok,
      tools: [weather, clock],
      messages: [
        { role: "user", content: "Weather and time in Sofia?" },
        called("toolu_a", "toolu_b"),
        {
          role: "user",
          content: [
            result("toolu_a", [
              { type: "text", text: "12°C" },
              { type: "text", text: "sunny" },
            ]),
            result("toolu_b", "clock down", { is_error: true, cache_control: { type: "ephemeral" } }),
            { type: "text", text: "Also: tomorrow?" },
          ],
        },
        { role: "assistant", content: "12°C and sunny; tomorrow I cannot say." },
        user,
      ],
    } satisfies Anthropic.MessageCreateParamsNonStreaming);
    expect(req.toolResults).toBeUndefined();
    expect(req.turns[1]?.parts).toEqual([
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_a", name: "get_weather", input: { city: "Sofia" } },
      { type: "tool_use", id: "toolu_b", name: "get_time", input: {} },
    ]);
    expect(req.turns[2]?.parts).toEqual([
      {
        type: "tool_result",
        toolUseId: "toolu_a",
        content: "12°C\nsunny",
        isError: false,
        at: ["messages", 2, "content", 0],
      },
      {
        type: "tool_result",
        toolUseId: "toolu_b",
        content: "clock down",
        isError: true,
        at: ["messages", 2, "content", 1],
      },
      { type: "text", text: "Also: tomorrow?" },
    ]);
  });

  it("takes a last message of tool results as the results for the job their calls name", () => {
    const a = clientCallId(JOB, "toolu_01");
    const b = clientCallId(JOB, "toolu_02");
    const req = parseMessagesRequest({
      ...ok,
      tools: [weather, clock],
      messages: [
        { role: "user", content: "Weather and time in Sofia?" },
        called(a, b),
        // A result without content is an empty one.
        { role: "user", content: [result(a), { type: "tool_result", tool_use_id: b, is_error: true }] },
      ],
    });
    expect(req.toolResults).toEqual({
      jobId: JOB,
      results: [
        { id: "toolu_01", content: "12°C" },
        { id: "toolu_02", content: "", isError: true },
      ],
      param: "messages.2.content",
    });
    expect(req.tools).toHaveLength(2);
  });
});

describe("parseMessagesRequest: client tools refused, naming the field", () => {
  const a = clientCallId(JOB, "toolu_01");
  it.each<[string, Record<string, unknown>, string, string, string]>([
    ...["bash_20250124", "computer_20250124", "text_editor_20250728", "code_execution_20250825"].map(
      (type): [string, Record<string, unknown>, string, string, string] => [
        `a server tool (${type})`,
        { tools: [weather, { type, name: "x" }] },
        "tools.1.type",
        "unsupported_parameter",
        `tools.1.type: '${type}' tools are not supported: the gateway runs no server tools; define your own (name, description, input_schema) and run it.`,
      ],
    ),
    [
      "strict: true",
      { tools: [{ ...weather, strict: true }] },
      "tools.0.strict",
      "unsupported_parameter",
      "tools.0.strict: strict: true is not supported: the agent cannot guarantee arguments that match the schema exactly. Send strict: false and check the arguments.",
    ],
    [
      "a name the CLI cannot carry",
      { tools: [{ ...weather, name: "x".repeat(52) }] },
      "tools.0.name",
      "invalid_value",
      `tools.0.name: '${"x".repeat(52)}' is not a usable tool name: a name is 1 to 51 letters, digits, '_' and '-' (the agent is offered each tool as 'mcp__client__<name>', and a tool's name is at most 64 characters).`,
    ],
    [
      "a name given twice",
      { tools: [weather, { ...clock, name: "get_weather" }] },
      "tools.1.name",
      "invalid_value",
      "tools.1.name: 'get_weather' is also the name of tools.0.name: each tool needs a name of its own.",
    ],
    [
      "a tool without its input schema",
      { tools: [{ name: "f" }] },
      "tools.0.input_schema",
      "invalid_value",
      "tools.0.input_schema: Field required",
    ],
    [
      "an input schema of something else than an object",
      { tools: [{ name: "f", input_schema: { type: "string" } }] },
      "tools.0.input_schema",
      "invalid_json_schema",
      'Invalid JSON schema in \'tools.0.input_schema\': a tool\'s arguments are one JSON object, so its top level must be `"type": "object"`.',
    ],
    [
      "an unknown field of a tool",
      { tools: [{ ...weather, colour: "red" }] },
      "tools.0.colour",
      "unknown_parameter",
      "tools.0.colour: Extra inputs are not permitted",
    ],
    [
      "a deferred tool",
      { tools: [{ ...weather, defer_loading: true }] },
      "tools.0.defer_loading",
      "unsupported_parameter",
      "tools.0.defer_loading: deferred tools are not supported (there is no tool search): every tool is offered as it is.",
    ],
    [
      "a tool called by code execution",
      { tools: [{ ...weather, allowed_callers: ["direct", "code_execution_20250825"] }] },
      "tools.0.allowed_callers",
      "unsupported_parameter",
      "tools.0.allowed_callers: only 'direct' is supported: there is no code execution tool to call tools from.",
    ],
    [
      "tool_choice any",
      { tools: [weather], tool_choice: { type: "any" } },
      "tool_choice",
      "unsupported_parameter",
      "tool_choice: 'any' is not supported: the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'.",
    ],
    [
      "tool_choice of one tool",
      { tools: [weather], tool_choice: { type: "tool", name: "get_weather" } },
      "tool_choice",
      "unsupported_parameter",
      "tool_choice: 'tool' is not supported: the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'.",
    ],
    [
      "a tool_choice nobody knows",
      { tools: [weather], tool_choice: { type: "sometimes" } },
      "tool_choice.type",
      "invalid_value",
      "tool_choice.type: 'sometimes' is not a tool_choice; use 'auto' or 'none'.",
    ],
    [
      "one call at a time",
      { tools: [weather], tool_choice: { type: "auto", disable_parallel_tool_use: true } },
      "tool_choice.disable_parallel_tool_use",
      "unsupported_parameter",
      "tool_choice.disable_parallel_tool_use: true is not supported: the model may call several tools at once, and that cannot be turned off.",
    ],
    [
      "tools with a structured output format",
      { tools: [weather], output_config: { format: { type: "json_schema", schema: weatherSchema } } },
      "output_config.format",
      "unsupported_parameter",
      "output_config.format: a structured output format cannot be combined with tools: a request either offers tools or asks for a structured answer, not both.",
    ],
    [
      "tools with the beta's output format",
      { tools: [weather], output_format: { type: "json_schema", schema: weatherSchema } },
      "output_format",
      "unsupported_parameter",
      "output_format: a structured output format cannot be combined with tools: a request either offers tools or asks for a structured answer, not both.",
    ],
    [
      "a tool_use block without its input",
      { messages: [user, { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f" }] }, user] },
      "messages.1.content.0.input",
      "invalid_value",
      "messages.1.content.0.input: Field required",
    ],
    [
      "a tool_result block in an assistant message",
      { messages: [user, { role: "assistant", content: [result("t")] }, user] },
      "messages.1.content.0.type",
      "unsupported_parameter",
      "messages.1.content.0.type: tool_result blocks are taken in user messages only: they are the results of the model's calls.",
    ],
    [
      "an image in a tool result",
      {
        messages: [
          user,
          called("toolu_a"),
          {
            role: "user",
            content: [
              result("toolu_a", [
                { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              ]),
            ],
          },
        ],
      },
      "messages.2.content.0.content.0.type",
      "unsupported_parameter",
      "messages.2.content.0.content.0.type: images in tool results are not supported: a result is text.",
    ],
    [
      "a document in a tool result",
      {
        messages: [
          user,
          called("toolu_a"),
          { role: "user", content: [result("toolu_a", [{ type: "document", source: {} }])] },
        ],
      },
      "messages.2.content.0.content.0.type",
      "unsupported_parameter",
      "messages.2.content.0.content.0.type: 'document' blocks are not supported in tool results; send text.",
    ],
    [
      "a result of a call the message before did not make",
      { messages: [user, called("toolu_a"), { role: "user", content: [result("toolu_b")] }] },
      "messages.2.content.0.tool_use_id",
      "invalid_value",
      "messages.2.content.0.tool_use_id: 'toolu_b' answers no tool_use block of the previous message: each tool_result block answers a tool_use block of the assistant message right before it.",
    ],
    [
      "text beside the results of the last message",
      {
        messages: [
          user,
          called(a),
          { role: "user", content: [result(a), { type: "text", text: "And tomorrow?" }] },
        ],
      },
      "messages.2.content.1.type",
      "unsupported_parameter",
      "messages.2.content.1.type: nothing can be sent beside tool results: they go to the paused response on their own. Send it in a later message.",
    ],
    [
      "results of calls the gateway did not make",
      { messages: [user, called("toolu_01"), { role: "user", content: [result("toolu_01")] }] },
      "messages.2.content.0.tool_use_id",
      "invalid_tool_call_id",
      "messages.2.content.0.tool_use_id: 'toolu_01' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
    ],
    [
      "results of calls of two responses",
      {
        messages: [
          user,
          called(a, clientCallId(OTHER_JOB, "toolu_02")),
          { role: "user", content: [result(a), result(clientCallId(OTHER_JOB, "toolu_02"))] },
        ],
      },
      "messages.2.content.1.tool_use_id",
      "invalid_value",
      `messages.2.content.1.tool_use_id: '${clientCallId(OTHER_JOB, "toolu_02")}' and '${a}' are calls of different responses: the results of one response's calls are sent together, in one request.`,
    ],
  ])("%s", (_name, extra, param, code, message) => {
    const err = refusal({ ...ok, ...extra });
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
  });
});
