import { MAX_JSON_SCHEMA_BYTES } from "@claude-gateway/contracts";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { GatewayError, InvalidRequestError } from "./errors.js";

/**
 * Structured output: a JSON schema the agent's answer must satisfy (the CLI's `--json-schema`).
 * The schema is checked here, before any job runs; the answer is checked again against it when the
 * job ends, so prose or an invalid object is never passed off as the structured answer.
 */

/**
 * One validator for the process (building one compiles the meta-schemas: ~0.4 s). Request schemas
 * are never kept in it: `addUsedSchema: false` keeps a request's `$id` from clashing with another's,
 * and each compiled schema is removed after use, so nothing accumulates.
 */
let shared: Ajv2020 | undefined;
const ajv = () => {
  shared ??= new Ajv2020({ strict: false, allErrors: false, validateFormats: false, addUsedSchema: false });
  return shared;
};

/** Compiles `schema`, runs `use` with its validator, and forgets it again. */
function withValidator<T>(schema: JsonSchema, use: (validate: ValidateFunction) => T): T {
  const checker = ajv();
  try {
    return use(checker.compile(schema));
  } finally {
    checker.removeSchema(schema);
  }
}

export type JsonSchema = Record<string, unknown>;

/**
 * The schema as the job gets it; throws a 400 naming `param` if it is not a usable JSON schema
 * (draft 2020-12) whose top level is an object, or is larger than a job carries.
 */
export function checkJsonSchema(input: unknown, param: string): JsonSchema {
  const invalid = (why: string) =>
    new InvalidRequestError(`Invalid JSON schema in '${param}': ${why}`, param, "invalid_json_schema");
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalid("a schema is a JSON object.");
  }
  // A top-level `$schema` names a draft (SDK helpers such as zod's write draft-07's); the keywords
  // such schemas use read the same in draft 2020-12, which is what is checked and what the CLI gets.
  const { $schema: _draft, ...schema } = input as JsonSchema;
  const bytes = Buffer.byteLength(JSON.stringify(schema));
  if (bytes > MAX_JSON_SCHEMA_BYTES) throw invalid(`it is ${bytes} bytes; at most ${MAX_JSON_SCHEMA_BYTES}.`);
  const checker = ajv();
  if (!checker.validateSchema(schema))
    throw invalid(`${checker.errorsText(checker.errors, { dataVar: "schema" })}.`);
  try {
    withValidator(schema as JsonSchema, () => undefined);
  } catch (err) {
    throw invalid(`${(err as Error).message}.`);
  }
  // The answer is given as a tool's input, which the Messages API requires to be an object.
  if ((schema as JsonSchema).type !== "object") {
    throw invalid('its top level must be `"type": "object"` (the answer is one JSON object).');
  }
  return schema as JsonSchema;
}

/** Why `value` does not satisfy `schema`, or undefined when it does. */
export function structuredOutputProblem(schema: JsonSchema, value: unknown): string | undefined {
  return withValidator(schema, (validate) =>
    validate(value) ? undefined : ajv().errorsText(validate.errors, { dataVar: "output" }),
  );
}

/** The job ended without an answer that satisfies the request's schema. */
export class StructuredOutputInvalidError extends GatewayError {
  override readonly name = "StructuredOutputInvalidError";
  constructor(
    readonly jobId: string,
    message: string,
  ) {
    super(message, { status: 500, type: "api_error", code: "structured_output_invalid" });
  }
}

/**
 * The structured answer of a finished job as JSON text, checked against the schema. A job that
 * succeeded without one (or with one the schema refuses) is an error, never its prose.
 */
export function structuredAnswer(
  job: { id: string; result?: { structuredOutput?: unknown } | undefined },
  schema: JsonSchema,
): string {
  const value = job.result?.structuredOutput;
  if (value === undefined) {
    throw new StructuredOutputInvalidError(
      job.id,
      "The model answered without the structured output asked for.",
    );
  }
  const problem = structuredOutputProblem(schema, value);
  if (problem) {
    throw new StructuredOutputInvalidError(job.id, `The model's structured output is not valid: ${problem}.`);
  }
  return JSON.stringify(value);
}
