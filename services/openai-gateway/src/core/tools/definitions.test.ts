import { MAX_CLIENT_TOOL_DESCRIPTION, MAX_CLIENT_TOOLS } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../errors.js";
import { paramOf } from "../request.js";
import { clientToolsOf, type Path, type ToolDefinition, type ToolRefusals } from "./definitions.js";

/** OpenAI's spelling, as chat completions use it. */
const api: ToolRefusals = {
  param: (path) => paramOf(path) ?? "",
  error: (path, message, code) => new InvalidRequestError(message, paramOf(path), code),
};

const at = (i: number) => ({
  name: ["tools", i, "function", "name"] as Path,
  description: ["tools", i, "function", "description"] as Path,
  parameters: ["tools", i, "function", "parameters"] as Path,
  strict: ["tools", i, "function", "strict"] as Path,
});
const tool = (i: number, fields: Partial<Omit<ToolDefinition, "at">> = {}): ToolDefinition => ({
  name: `tool_${i}`,
  at: at(i),
  ...fields,
});
const weather = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
};

function refusal(tools: ToolDefinition[]): InvalidRequestError {
  try {
    clientToolsOf(tools, ["tools"], api);
  } catch (err) {
    if (err instanceof InvalidRequestError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("clientToolsOf", () => {
  it("takes name, description and schema", () => {
    expect(
      clientToolsOf(
        [tool(0, { name: "get_weather", description: "The weather of a city.", parameters: weather })],
        ["tools"],
        api,
      ),
    ).toEqual([{ name: "get_weather", description: "The weather of a city.", inputSchema: weather }]);
  });

  it("gives a tool without a schema (absent or null) one without arguments", () => {
    expect(clientToolsOf([tool(0), tool(1, { parameters: null })], ["tools"], api)).toEqual([
      { name: "tool_0", inputSchema: { type: "object", properties: {} } },
      { name: "tool_1", inputSchema: { type: "object", properties: {} } },
    ]);
  });

  it("reads a schema without a type as one of an object", () => {
    expect(clientToolsOf([tool(0, { parameters: { properties: {} } })], ["tools"], api)).toEqual([
      { name: "tool_0", inputSchema: { type: "object", properties: {} } },
    ]);
    expect(clientToolsOf([tool(0, { parameters: {} })], ["tools"], api)[0]?.inputSchema).toEqual({
      type: "object",
    });
  });

  it("drops a schema's draft name, as structured output does", () => {
    const draft7 = { $schema: "http://json-schema.org/draft-07/schema#", ...weather };
    expect(clientToolsOf([tool(0, { parameters: draft7 })], ["tools"], api)[0]?.inputSchema).toEqual(weather);
  });

  it("leaves out a null description; strict false or null is fine", () => {
    expect(
      clientToolsOf(
        [tool(0, { description: null, strict: false }), tool(1, { strict: null })],
        ["tools"],
        api,
      ),
    ).toEqual([
      { name: "tool_0", inputSchema: { type: "object", properties: {} } },
      { name: "tool_1", inputSchema: { type: "object", properties: {} } },
    ]);
  });

  it("takes names of 51 characters, of letters, digits, '_' and '-'", () => {
    const name = `A-z_0${"x".repeat(46)}`;
    expect(clientToolsOf([tool(0, { name })], ["tools"], api)[0]?.name).toBe(name);
  });

  it("takes as many tools as a job does", () => {
    const tools = [...Array(MAX_CLIENT_TOOLS)].map((_, i) => tool(i));
    expect(clientToolsOf(tools, ["tools"], api)).toHaveLength(MAX_CLIENT_TOOLS);
  });

  it.each<[string, ToolDefinition[], string, string, RegExp]>([
    [
      "a name with a space",
      [tool(0, { name: "get weather" })],
      "tools[0].function.name",
      "invalid_value",
      /^'get weather' is not a usable tool name: a name is 1 to 51 letters, digits, '_' and '-' \(the agent is offered each tool as 'mcp__client__<name>', and a tool's name is at most 64 characters\)\.$/,
    ],
    [
      "a name of 52 characters",
      [tool(0, { name: "x".repeat(52) })],
      "tools[0].function.name",
      "invalid_value",
      /is not a usable tool name: a name is 1 to 51/,
    ],
    ["an empty name", [tool(0, { name: "" })], "tools[0].function.name", "invalid_value", /^'' is not/],
    ["a dotted name", [tool(1, { name: "a.b" })], "tools[1].function.name", "invalid_value", /'a\.b'/],
    [
      "a name given twice",
      [tool(0, { name: "f" }), tool(1), tool(2, { name: "f" })],
      "tools[2].function.name",
      "invalid_value",
      /^'f' is also the name of tools\[0\]\.function\.name: each tool needs a name of its own\.$/,
    ],
    [
      "strict: true",
      [tool(0, { strict: true })],
      "tools[0].function.strict",
      "unsupported_parameter",
      /^strict: true is not supported: the agent cannot guarantee arguments that match the schema exactly\. Send strict: false and check the arguments\.$/,
    ],
    [
      "a description that is too long",
      [tool(0, { description: "x".repeat(MAX_CLIENT_TOOL_DESCRIPTION + 1) })],
      "tools[0].function.description",
      "invalid_value",
      /^the description is 16385 characters; at most 16384 are supported\.$/,
    ],
    [
      "a schema of something else than an object",
      [tool(0, { parameters: { type: "string" } })],
      "tools[0].function.parameters",
      "invalid_json_schema",
      /^Invalid JSON schema in 'tools\[0\]\.function\.parameters': a tool's arguments are one JSON object, so its top level must be `"type": "object"`\.$/,
    ],
    [
      "a schema that is not an object",
      [tool(0, { parameters: "{}" })],
      "tools[0].function.parameters",
      "invalid_json_schema",
      /a schema is a JSON object/,
    ],
    [
      "a schema that is an array",
      [tool(0, { parameters: [] })],
      "tools[0].function.parameters",
      "invalid_json_schema",
      /a schema is a JSON object/,
    ],
    [
      "an invalid schema",
      [tool(0, { parameters: { type: "object", required: "city" } })],
      "tools[0].function.parameters",
      "invalid_json_schema",
      /required/,
    ],
    [
      "a schema over 64 KiB",
      [tool(0, { parameters: { type: "object", description: "x".repeat(70_000) } })],
      "tools[0].function.parameters",
      "invalid_json_schema",
      /bytes/,
    ],
    [
      "too many tools",
      [...Array(MAX_CLIENT_TOOLS + 1)].map((_, i) => tool(i)),
      "tools",
      "invalid_value",
      /^129 tools are offered; at most 128 are supported\.$/,
    ],
  ])("refuses %s, naming it", (_name, tools, param, code, message) => {
    const err = refusal(tools);
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });
});
