import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
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
      "tools",
      { tools: [{ name: "f", input_schema: { type: "object" } }] },
      "tools: ",
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
      "a tool_result block",
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "42" }] },
      "messages.0.content.0.type: tool calling is not supported yet",
      "unsupported_parameter",
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
      "a tool_use block of the assistant's",
      [{ role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] }, user],
      "messages.0.content.0.type: tool calling is not supported yet",
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
