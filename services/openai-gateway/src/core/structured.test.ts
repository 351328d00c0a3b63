import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "./errors.js";
import {
  checkJsonSchema,
  StructuredOutputInvalidError,
  structuredAnswer,
  structuredOutputProblem,
} from "./structured.js";

const person = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
  required: ["name", "age"],
  additionalProperties: false,
};

describe("checkJsonSchema", () => {
  it("returns a valid object schema as it is", () => {
    expect(checkJsonSchema(person, "response_format.json_schema.schema")).toEqual(person);
  });

  it.each<[string, unknown, RegExp]>([
    ["not an object", "string", /a schema is a JSON object/],
    ["an array", [person], /a schema is a JSON object/],
    ["null", null, /a schema is a JSON object/],
    ["an unknown type", { type: "objec" }, /schema\/type/],
    ["a bad keyword value", { type: "object", required: "name" }, /required/],
    ["an unresolvable $ref", { type: "object", properties: { a: { $ref: "#/$defs/nope" } } }, /resolve/],
    ["a top level that is not an object", { type: "array", items: { type: "string" } }, /top level/],
    ["a schema over 64 KiB", { type: "object", description: "x".repeat(70_000) }, /bytes/],
  ])("refuses %s with a 400 naming the parameter", (_name, schema, message) => {
    const err = (() => {
      try {
        checkJsonSchema(schema, "text.format.schema");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidRequestError);
    const e = err as InvalidRequestError;
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_json_schema");
    expect(e.param).toBe("text.format.schema");
    expect(e.message).toMatch(message);
  });

  it("takes a schema that names its draft (as SDK helpers write them), without the name", () => {
    const draft7 = { $schema: "http://json-schema.org/draft-07/schema#", ...person, definitions: { x: {} } };
    const { $schema: _, ...rest } = draft7;
    expect(checkJsonSchema(draft7, "p")).toEqual(rest);
  });

  it("keeps requests apart: the same $id in two requests is no clash", () => {
    const withId = { $id: "https://x.example/s", type: "object" };
    expect(checkJsonSchema(withId, "p")).toEqual(withId);
    expect(checkJsonSchema(withId, "p")).toEqual(withId);
  });
});

describe("structured answers", () => {
  it("says what is wrong with an output, nothing when it fits", () => {
    expect(structuredOutputProblem(person, { name: "Ada", age: 36 })).toBeUndefined();
    expect(structuredOutputProblem(person, { name: "Ada" })).toMatch(/age/);
    expect(structuredOutputProblem(person, { name: "Ada", age: -1 })).toMatch(/>= 0/);
  });

  it("is the output as JSON text", () => {
    const job = { id: "j", result: { structuredOutput: { name: "Ada", age: 36 } } };
    expect(JSON.parse(structuredAnswer(job, person))).toEqual({ name: "Ada", age: 36 });
  });

  it.each([
    ["no structured output (prose)", { id: "j", result: {} }, /without the structured output/],
    ["an output the schema refuses", { id: "j", result: { structuredOutput: { name: 1 } } }, /not valid/],
  ])("refuses %s: never prose passed off as JSON", (_name, job, message) => {
    expect(() => structuredAnswer(job, person)).toThrow(StructuredOutputInvalidError);
    expect(() => structuredAnswer(job, person)).toThrow(message);
  });
});
