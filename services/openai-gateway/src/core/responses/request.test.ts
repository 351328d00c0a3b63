import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
import { clientCallId } from "../tools/call-id.js";
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
      input: [{ type: "message", role: "user", parts: [{ type: "text", text: "Hi" }] }],
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
      functionTools: [],
      tools: undefined,
      toolResults: undefined,
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
    expect(req.input).toEqual([
      { type: "message", role: "system", parts: [{ type: "text", text: "Be brief." }] },
      { type: "message", role: "developer", parts: [{ type: "text", text: "No emoji." }] },
      {
        type: "message",
        role: "user",
        parts: [
          { type: "text", text: "Look:" },
          { type: "image", url: PNG, param: "input[2].content[1].image_url" },
        ],
      },
      { type: "message", role: "assistant", parts: [{ type: "text", text: "A dot." }] },
      { type: "message", role: "assistant", parts: [{ type: "text", text: "No." }] },
      { type: "message", role: "user", parts: [{ type: "text", text: "Again?" }] },
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
        .input,
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
      "tool_choice: required without tools",
      { input: "x", tool_choice: "required" },
      { param: "tool_choice" },
    ],
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
      "an item reference",
      { input: [{ type: "item_reference", id: "msg_1" }] },
      {
        param: "input[0].type",
        code: "unsupported_parameter",
        message:
          "Input items of type 'item_reference' are not supported; send messages, function calls and their outputs.",
      },
    ],
    [
      "a call of a built-in tool",
      {
        input: [
          { type: "web_search_call", id: "ws_1", status: "completed" },
          { role: "user", content: "x" },
        ],
      },
      { param: "input[0].type", code: "unsupported_parameter" },
    ],
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

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const OTHER_JOB = "11111111-2222-4333-8444-555555555555";
const weatherSchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const weather = {
  type: "function",
  name: "get_weather",
  description: "The weather of a city.",
  parameters: weatherSchema,
  strict: false,
};
const clock = { type: "function", name: "get_time", parameters: null, strict: null };
const call = (callId: string, name = "get_weather", args = '{"city":"Sofia"}') => ({
  type: "function_call",
  call_id: callId,
  name,
  arguments: args,
});
const output = (callId: string, out: unknown = "12°C") => ({
  type: "function_call_output",
  call_id: callId,
  output: out,
});

describe("parseResponsesRequest: client tools", () => {
  it("offers the function tools as the job's tools, and echoes them as the response will", () => {
    const req = parseResponsesRequest({ input: "Weather in Sofia?", tools: [weather, clock] });
    expect(req.tools).toEqual([
      { name: "get_weather", description: "The weather of a city.", inputSchema: weatherSchema },
      { name: "get_time", inputSchema: { type: "object", properties: {} } },
    ]);
    expect(req.functionTools).toEqual([
      {
        type: "function",
        name: "get_weather",
        description: "The weather of a city.",
        parameters: weatherSchema,
        strict: false,
      },
      { type: "function", name: "get_time", description: null, parameters: null, strict: false },
    ]);
    expect(req.toolChoice).toBe("auto");
    expect(req.toolResults).toBeUndefined();
  });

  it("with tool_choice none offers none, and echoes them", () => {
    const req = parseResponsesRequest({
      input: "x",
      tools: [{ ...weather, name: "bad name", strict: true }],
      tool_choice: "none",
      parallel_tool_calls: false,
      text: { format: { type: "json_object" } },
    });
    expect(req.tools).toBeUndefined();
    expect(req.toolChoice).toBe("none");
    expect(req.functionTools.map((t) => t.name)).toEqual(["bad name"]);
  });

  it("takes earlier calls and outputs (as the SDK returns and sends them) as the transcript of a new job", () => {
    const req = parseResponsesRequest({
      input: [
        { role: "user", content: "Weather in Sofia?" },
        { ...call("call_a"), id: "fc_1", status: "completed" },
        {
          ...output("call_a", [
            { type: "input_text", text: "12°C" },
            { type: "input_text", text: "sunny" },
          ]),
          id: null,
          status: null,
        },
        { role: "assistant", content: "12°C and sunny." },
        { role: "user", content: "Thanks." },
      ],
      tools: [weather],
    });
    expect(req.toolResults).toBeUndefined();
    expect(req.input.slice(1, 3)).toEqual([
      { type: "function_call", callId: "call_a", name: "get_weather", arguments: '{"city":"Sofia"}' },
      { type: "function_call_output", callId: "call_a", output: "12°C\nsunny" },
    ]);
  });

  it("takes trailing outputs as the results for the job their calls name (previous_response_id or not)", () => {
    const a = clientCallId(JOB, "toolu_01");
    const b = clientCallId(JOB, "toolu_02");
    const req = parseResponsesRequest({
      previous_response_id: "resp_x",
      input: [output(a), output(b, [{ type: "input_text", text: "09:00" }])],
      tools: [weather, clock],
    });
    expect(req.toolResults).toEqual({
      jobId: JOB,
      results: [
        { id: "toolu_01", content: "12°C" },
        { id: "toolu_02", content: "09:00" },
      ],
      param: "input",
    });
    expect(
      parseResponsesRequest({ input: [{ role: "user", content: "x" }, call(a), output(a)] }).toolResults,
    ).toMatchObject({
      jobId: JOB,
    });
  });
});

describe("parseResponsesRequest: client tools refused, named", () => {
  const a = clientCallId(JOB, "toolu_01");
  it.each<[string, unknown, Record<string, unknown>]>([
    [
      "a built-in tool",
      { input: "x", tools: [weather, { type: "web_search" }] },
      {
        param: "tools[1].type",
        code: "unsupported_parameter",
        message:
          "Tools of type 'web_search' are not supported; only 'function' tools (which the client runs) are.",
      },
    ],
    [
      "file search",
      { input: "x", tools: [{ type: "file_search", vector_store_ids: [] }] },
      { param: "tools[0].type" },
    ],
    [
      "strict: true",
      { input: "x", tools: [{ ...weather, strict: true }] },
      {
        param: "tools[0].strict",
        code: "unsupported_parameter",
        message: expect.stringMatching(/^strict: true is not supported/),
      },
    ],
    [
      "a name the CLI cannot carry",
      { input: "x", tools: [{ ...weather, name: "get.weather" }] },
      {
        param: "tools[0].name",
        code: "invalid_value",
        message: expect.stringContaining("'get.weather' is not a usable tool name"),
      },
    ],
    [
      "a name given twice",
      { input: "x", tools: [weather, weather] },
      {
        param: "tools[1].name",
        message: "'get_weather' is also the name of tools[0].name: each tool needs a name of its own.",
      },
    ],
    [
      "a tool without a name",
      { input: "x", tools: [{ type: "function", parameters: null }] },
      {
        param: "tools[0].name",
        code: "missing_required_parameter",
        message: "Missing required parameter: 'tools[0].name'.",
      },
    ],
    [
      "an unknown field of a tool",
      { input: "x", tools: [{ ...weather, examples: [] }] },
      {
        param: "tools[0].examples",
        code: "unknown_parameter",
        message: "Unknown parameter: 'tools[0].examples'.",
      },
    ],
    [
      "a deferred tool",
      { input: "x", tools: [{ ...weather, defer_loading: true }] },
      { param: "tools[0].defer_loading", code: "unsupported_parameter" },
    ],
    [
      "a schema of something else than an object",
      { input: "x", tools: [{ ...weather, parameters: { type: "string" } }] },
      { param: "tools[0].parameters", code: "invalid_json_schema" },
    ],
    [
      "tool_choice required",
      { input: "x", tools: [weather], tool_choice: "required" },
      {
        param: "tool_choice",
        code: "unsupported_parameter",
        message:
          "tool_choice 'required' is not supported: the agent cannot be made to call a tool; use 'auto' (the model decides) or 'none'.",
      },
    ],
    [
      "tool_choice naming a function",
      { input: "x", tools: [weather], tool_choice: { type: "function", name: "get_weather" } },
      { param: "tool_choice", message: expect.stringMatching(/^tool_choice naming a tool is not supported/) },
    ],
    [
      "tool_choice allowed_tools",
      { input: "x", tools: [weather], tool_choice: { type: "allowed_tools", mode: "auto", tools: [] } },
      {
        param: "tool_choice",
        message: "tool_choice 'allowed_tools' is not supported: offer only the tools the model may call.",
      },
    ],
    [
      "parallel_tool_calls: false",
      { input: "x", tools: [weather], parallel_tool_calls: false },
      {
        param: "parallel_tool_calls",
        code: "unsupported_parameter",
        message:
          "parallel_tool_calls: false is not supported: the model may call several tools at once, and that cannot be turned off.",
      },
    ],
    [
      "tools with a json_schema format",
      {
        input: "x",
        tools: [weather],
        text: { format: { type: "json_schema", name: "w", schema: { type: "object" } } },
      },
      {
        param: "text.format",
        code: "unsupported_parameter",
        message:
          "text.format 'json_schema' cannot be combined with tools: a request either offers tools or asks for a structured answer, not both.",
      },
    ],
    [
      "tools with JSON mode",
      { input: "x", tools: [weather], text: { format: { type: "json_object" } } },
      { param: "text.format" },
    ],
    [
      "an input that ends with a call, not its output",
      { input: [{ role: "user", content: "x" }, call(a)] },
      {
        param: "input",
        code: "unsupported_parameter",
        message:
          "The input must end with a user message or with function_call_output items; it ends with a function_call item.",
      },
    ],
    [
      "an image in an output",
      { input: [output(a, [{ type: "input_image", image_url: "https://x/y.png" }])] },
      {
        param: "input[0].output[0].type",
        code: "unsupported_parameter",
        message: "Function call outputs are text: parts of type 'input_image' are not supported in them.",
      },
    ],
    [
      "an output without its call id",
      { input: [{ type: "function_call_output", output: "x" }] },
      { param: "input[0].call_id", code: "missing_required_parameter" },
    ],
    [
      "an output of the wrong type",
      { input: [{ type: "function_call_output", call_id: a, output: 5 }] },
      { param: "input[0].output", code: "invalid_type" },
    ],
    [
      "an unknown field of a call",
      {
        input: [
          { ...call("c"), extra: 1 },
          { role: "user", content: "x" },
        ],
      },
      { param: "input[0].extra", code: "unknown_parameter" },
    ],
    [
      "outputs of calls the gateway did not make",
      { input: [output("call_abc")] },
      {
        param: "input[0].call_id",
        code: "invalid_tool_call_id",
        message:
          "'call_abc' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
      },
    ],
    [
      "outputs of calls of two responses",
      { input: [output(a), output(clientCallId(OTHER_JOB, "toolu_02"))] },
      {
        param: "input[1].call_id",
        code: "invalid_value",
        message: expect.stringContaining("are calls of different responses"),
      },
    ],
  ])("%s", (_, body, expected) => {
    expect(refusal(body)).toMatchObject({ status: 400, type: "invalid_request_error", ...expected });
  });
});
