import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
import { parseResponsesRequest } from "./request.js";

const PNG =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** The error a body gets, as the client sees it. */
function refusal(body: unknown) {
  try {
    parseResponsesRequest(body);
  } catch (err) {
    if (err instanceof InvalidRequestError) return { status: err.status, ...err.body().error };
    throw err;
  }
  throw new Error("accepted");
}

describe("parseResponsesRequest: what is taken", () => {
  it("a string input is one user message; defaults as OpenAI has them", () => {
    expect(parseResponsesRequest({ model: "claude-haiku-4-5", input: "Hi" })).toEqual({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", parts: [{ type: "text", text: "Hi" }] }],
      instructions: null,
      stream: false,
      store: true,
      previousResponseId: undefined,
      format: { type: "text" },
      jsonSchema: undefined,
      metadata: {},
      agent: undefined,
      parallelToolCalls: true,
      toolChoice: "auto",
    });
  });

  it("messages with and without type, string or part content, earlier output messages as the SDK returns them", () => {
    const req = parseResponsesRequest({
      input: [
        { role: "system", content: "Be brief." },
        { type: "message", role: "developer", content: [{ type: "input_text", text: "No emoji." }] },
        {
          role: "user",
          content: [
            { type: "input_text", text: "Look:" },
            { type: "input_image", image_url: PNG, detail: "auto" },
          ],
        },
        {
          id: "msg_1",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "A dot.", annotations: [], logprobs: [] }],
        },
        { role: "assistant", content: [{ type: "refusal", refusal: "No." }] },
        { role: "user", content: "Again?" },
      ],
    });
    expect(req.messages).toEqual([
      { role: "system", parts: [{ type: "text", text: "Be brief." }] },
      { role: "developer", parts: [{ type: "text", text: "No emoji." }] },
      {
        role: "user",
        parts: [
          { type: "text", text: "Look:" },
          { type: "image", url: PNG, param: "input[2].content[1].image_url" },
        ],
      },
      { role: "assistant", parts: [{ type: "text", text: "A dot." }] },
      { role: "assistant", parts: [{ type: "text", text: "No." }] },
      { role: "user", parts: [{ type: "text", text: "Again?" }] },
    ]);
  });

  it("takes what it honours: instructions, stream, store, previous_response_id, metadata.agent", () => {
    const req = parseResponsesRequest({
      model: "",
      input: "Hi",
      instructions: "Be brief.",
      stream: true,
      stream_options: { include_obfuscation: false },
      store: false,
      previous_response_id: "resp_x",
      metadata: { agent: "general", trace: "t1" },
      parallel_tool_calls: false,
      tool_choice: "none",
      tools: [],
    });
    expect(req).toMatchObject({
      model: undefined,
      instructions: "Be brief.",
      stream: true,
      store: false,
      previousResponseId: "resp_x",
      metadata: { agent: "general", trace: "t1" },
      agent: "general",
      parallelToolCalls: false,
      toolChoice: "none",
    });
  });

  it("accepts and ignores the knobs the CLI has none of", () => {
    expect(() =>
      parseResponsesRequest({
        input: "Hi",
        max_output_tokens: 100,
        max_tool_calls: 3,
        temperature: 0.2,
        top_p: 0.9,
        top_logprobs: 0,
        user: "u",
        safety_identifier: "s",
        prompt_cache_key: "k",
        prompt_cache_retention: "24h",
        truncation: "auto",
        reasoning: { effort: "low", summary: "auto" },
        service_tier: "auto",
        background: false,
        text: { verbosity: "low" },
        // Items the gateway never produces: there is nothing of theirs to include.
        include: ["reasoning.encrypted_content", "web_search_call.results"],
        conversation: null,
        prompt: null,
      }),
    ).not.toThrow();
  });

  it("text.format: text; json_object as any object; json_schema checked, with its description in the schema", () => {
    expect(parseResponsesRequest({ input: "Hi", text: { format: { type: "text" } } })).toMatchObject({
      format: { type: "text" },
      jsonSchema: undefined,
    });
    expect(
      parseResponsesRequest({ input: "Hi JSON", text: { format: { type: "json_object" } } }),
    ).toMatchObject({ format: { type: "json_object" }, jsonSchema: { type: "object" } });
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const req = parseResponsesRequest({
      input: "Capital of Bulgaria?",
      text: { format: { type: "json_schema", name: "city", schema, strict: true, description: "A city." } },
    });
    expect(req.format).toEqual({
      type: "json_schema",
      name: "city",
      schema,
      strict: true,
      description: "A city.",
    });
    expect(req.jsonSchema).toEqual({ ...schema, description: "A city." });
    // A schema's own description wins; without a format description the schema is as sent.
    const own = { ...schema, description: "Own." };
    expect(
      parseResponsesRequest({
        input: "x",
        text: { format: { type: "json_schema", name: "c", schema: own, description: "Other." } },
      }).jsonSchema,
    ).toEqual(own);
    expect(
      parseResponsesRequest({ input: "x", text: { format: { type: "json_schema", name: "c", schema } } }),
    ).toMatchObject({ format: { type: "json_schema", name: "c", schema }, jsonSchema: schema });
  });

  it("an empty last message is fine when it has an image", () => {
    expect(
      parseResponsesRequest({ input: [{ role: "user", content: [{ type: "input_image", image_url: PNG }] }] })
        .messages,
    ).toHaveLength(1);
  });
});

describe("parseResponsesRequest: what is refused, named as OpenAI does", () => {
  it.each<[string, unknown, Record<string, unknown>]>([
    [
      "an unknown field",
      { input: "Hi", foo: 1 },
      { message: "Unknown parameter: 'foo'.", param: "foo", code: "unknown_parameter" },
    ],
    [
      "an unknown field of an item",
      { input: [{ role: "user", content: "Hi", name: "ada" }] },
      { message: "Unknown parameter: 'input[0].name'.", param: "input[0].name", code: "unknown_parameter" },
    ],
    [
      "an unknown field of a part",
      { input: [{ role: "user", content: [{ type: "input_text", text: "Hi", x: 1 }] }] },
      { param: "input[0].content[0].x", code: "unknown_parameter" },
    ],
    [
      "no input",
      { model: "claude-haiku-4-5" },
      { message: "Missing required parameter: 'input'.", param: "input", code: "missing_required_parameter" },
    ],
    [
      "an item without content",
      { input: [{ role: "user" }] },
      { message: "Missing required parameter: 'input[0].content'.", param: "input[0].content" },
    ],
    ["an input of the wrong type", { input: 5 }, { param: "input", code: "invalid_type" }],
    ["a body that is not an object", [], { param: null, code: "invalid_json" }],
    ["a role that does not exist", { input: [{ role: "tool", content: "x" }] }, { param: "input[0].role" }],
    [
      "temperature out of range",
      { input: "x", temperature: 3 },
      { param: "temperature", code: "invalid_value" },
    ],
    [
      "background: true",
      { input: "x", background: true },
      { param: "background", code: "unsupported_parameter" },
    ],
    [
      "tools",
      { input: "x", tools: [{ type: "function", name: "f", parameters: {} }] },
      { param: "tools", code: "unsupported_parameter" },
    ],
    ["tool_choice: required", { input: "x", tool_choice: "required" }, { param: "tool_choice" }],
    [
      "a function tool_choice",
      { input: "x", tool_choice: { type: "function", name: "f" } },
      { param: "tool_choice" },
    ],
    ["a conversation", { input: "x", conversation: "conv_1" }, { param: "conversation" }],
    ["a prompt template", { input: "x", prompt: { id: "pmpt_1" } }, { param: "prompt" }],
    [
      "context management",
      { input: "x", context_management: [{ type: "compaction" }] },
      { param: "context_management" },
    ],
    ["logprobs", { input: "x", top_logprobs: 2 }, { param: "top_logprobs" }],
    [
      "logprobs to include",
      { input: "x", include: ["message.output_text.logprobs"] },
      { param: "include[0]", code: "unsupported_parameter" },
    ],
    [
      "an include that does not exist",
      { input: "x", include: ["nope"] },
      { param: "include[0]", code: "invalid_value" },
    ],
    ["stream_options without stream", { input: "x", stream_options: {} }, { param: "stream_options" }],
    [
      "a function call item",
      {
        input: [
          { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
          { role: "user", content: "x" },
        ],
      },
      { param: "input[0].type", code: "unsupported_parameter" },
    ],
    [
      "a function call output item",
      { input: [{ type: "function_call_output", call_id: "c", output: "1" }] },
      { param: "input[0].type", code: "unsupported_parameter" },
    ],
    ["an item reference", { input: [{ type: "item_reference", id: "msg_1" }] }, { param: "input[0].type" }],
    [
      "a file input",
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }] },
      { param: "input[0].content[0].type", code: "unsupported_parameter" },
    ],
    [
      "an image by file id",
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }] },
      { param: "input[0].content[0].file_id", code: "unsupported_parameter" },
    ],
    [
      "an image in a system message",
      {
        input: [
          { role: "system", content: [{ type: "input_image", image_url: PNG }] },
          { role: "user", content: "x" },
        ],
      },
      { param: "input[0].content[0].type", code: "unsupported_parameter" },
    ],
    [
      "output_text in a user message",
      { input: [{ role: "user", content: [{ type: "output_text", text: "x" }] }] },
      { param: "input[0].content[0].type" },
    ],
    [
      "an input that ends with the assistant",
      {
        input: [
          { role: "user", content: "x" },
          { role: "assistant", content: "y" },
        ],
      },
      { param: "input", message: "The input must end with a user message; it ends with 'assistant'." },
    ],
    ["an empty input", { input: [] }, { param: "input" }],
    ["an empty request", { input: " " }, { param: "input", message: "The last user message is empty." }],
    [
      "an empty last message",
      {
        input: [
          { role: "user", content: "x" },
          { role: "user", content: [] },
        ],
      },
      { param: "input[1].content" },
    ],
    [
      "an agent name that cannot be one",
      { input: "x", metadata: { agent: "Bad Agent" } },
      { param: "metadata.agent", code: "invalid_value" },
    ],
    [
      "too many metadata keys",
      { input: "x", metadata: Object.fromEntries([...Array(17)].map((_, i) => [`k${i}`, "v"])) },
      { param: "metadata" },
    ],
    [
      "a format that does not exist",
      { input: "x", text: { format: { type: "xml" } } },
      { param: "text.format.type" },
    ],
    [
      "a json_schema without a name",
      { input: "x", text: { format: { type: "json_schema", schema: { type: "object" } } } },
      { param: "text.format.name", code: "missing_required_parameter" },
    ],
    [
      "a json_schema whose schema is not one",
      { input: "x", text: { format: { type: "json_schema", name: "n", schema: { type: "nonsense" } } } },
      { param: "text.format.schema", code: "invalid_json_schema" },
    ],
    [
      "a json_schema whose top level is not an object",
      { input: "x", text: { format: { type: "json_schema", name: "n", schema: { type: "array" } } } },
      { param: "text.format.schema", code: "invalid_json_schema" },
    ],
  ])("%s", (_, body, expected) => {
    expect(refusal(body)).toMatchObject({ status: 400, type: "invalid_request_error", ...expected });
  });
});
