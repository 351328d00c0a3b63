import { JobSubmission } from "@claude-gateway/contracts";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { paramOf } from "../request.js";
import { checkJsonSchema, type JsonSchema } from "../structured.js";

/**
 * The Responses API body this gateway accepts (`POST /v1/responses`). Every field of the API is
 * listed: an unknown one is a 400 naming it, in OpenAI's words (`Unknown parameter: 'x'.`). Fields
 * the CLI cannot honour are accepted and ignored when their absence cannot mislead the caller, and
 * refused with a 400 naming the field when it would.
 */

/** An agent's name as the executor accepts it (`agents/<name>.md`). */
const AgentName = JobSubmission.shape.agent;

/** OpenAI's metadata: at most 16 pairs, keys up to 64 characters, values up to 512. */
const Metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, "at most 16 keys");

const Body = z
  .object({
    model: z.string().max(100).nullish(),
    input: z
      .union([z.string(), z.array(z.unknown())], { error: "expected a string or an array of input items" })
      .optional(),
    instructions: z.string().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_obfuscation: z.boolean().optional() }).strict().nullish(),
    previous_response_id: z.string().max(200).nullish(),
    text: z
      .object({ format: z.unknown().optional(), verbosity: z.enum(["low", "medium", "high"]).nullish() })
      .strict()
      .nullish(),
    store: z.boolean().nullish(),
    metadata: Metadata.nullish(),
    // Accepted and ignored: knobs the CLI does not expose. The answer is still an answer; the
    // budget and timeout bound what it costs.
    max_output_tokens: z.number().int().positive().nullish(),
    max_tool_calls: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    user: z.string().max(256).nullish(),
    safety_identifier: z.string().max(256).nullish(),
    prompt_cache_key: z.string().max(256).nullish(),
    prompt_cache_retention: z.enum(["in-memory", "24h"]).nullish(),
    truncation: z.enum(["auto", "disabled"]).nullish(),
    reasoning: z
      .object({
        effort: z.string().nullish(),
        summary: z.string().nullish(),
        generate_summary: z.string().nullish(),
      })
      .strict()
      .nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullish(),
    background: z.boolean().nullish(),
    include: z.array(z.string()).nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    // Listed to be refused when they ask for what the gateway cannot do.
    tools: z.array(z.unknown()).nullish(),
    tool_choice: z.unknown().optional(),
    conversation: z.unknown().optional(),
    prompt: z.unknown().optional(),
    context_management: z.array(z.unknown()).nullish(),
  })
  .strict();

/** `include` values: each names extra data of an output item kind. */
const INCLUDABLE = new Set([
  "file_search_call.results",
  "web_search_call.results",
  "web_search_call.action.sources",
  "message.input_image.image_url",
  "computer_call_output.output.image_url",
  "code_interpreter_call.outputs",
  "reasoning.encrypted_content",
  "message.output_text.logprobs",
]);
/**
 * The only `include` the gateway cannot honour: its output has text, never logprobs. The others
 * name items it never produces (tool calls, reasoning), so there is nothing to leave out.
 */
const NOT_INCLUDABLE = new Set(["message.output_text.logprobs"]);

const Message = z
  .object({
    type: z.literal("message").optional(),
    role: z.enum(["user", "assistant", "system", "developer"]),
    content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())], {
      error: "expected a string or an array of content parts",
    }),
    // What an output message of an earlier response carries when passed back as input.
    id: z.string().optional(),
    status: z.enum(["in_progress", "completed", "incomplete"]).optional(),
    phase: z.enum(["commentary", "final_answer"]).nullish(),
  })
  .strict();

const InputText = z.object({ type: z.literal("input_text"), text: z.string() }).strict();
const OutputText = z
  .object({
    type: z.literal("output_text"),
    text: z.string(),
    annotations: z.array(z.unknown()).optional(),
    logprobs: z.array(z.unknown()).optional(),
  })
  .strict();
const Refusal = z.object({ type: z.literal("refusal"), refusal: z.string() }).strict();
const InputImage = z
  .object({
    type: z.literal("input_image"),
    image_url: z.string().nullish(),
    file_id: z.string().nullish(),
    detail: z.enum(["low", "high", "auto", "original"]).optional(),
  })
  .strict();

const JsonSchemaFormat = z
  .object({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' and '-', at most 64"),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
    description: z.string().optional(),
  })
  .strict();

/** How the answer is formatted, as the response echoes it (`text.format`). */
export type TextFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      name: string;
      schema: Record<string, unknown>;
      strict?: boolean | null;
      description?: string;
    };

export type InputRole = "user" | "assistant" | "system" | "developer";
/** A part of an input message, in order: text, or an image (by URL; decoded when the job is built). */
export type InputPart = { type: "text"; text: string } | { type: "image"; url: string; param: string };
export interface InputMessage {
  role: InputRole;
  parts: InputPart[];
}

/** The request as the gateway uses it, after validation. */
export interface ResponsesRequest {
  model: string | undefined;
  /** The conversation, ending with a user message (a string `input` is one). */
  messages: InputMessage[];
  instructions: string | null;
  stream: boolean;
  /** Keep the run's session so a later `previous_response_id` may continue it (default true). */
  store: boolean;
  previousResponseId: string | undefined;
  format: TextFormat;
  /** What the job's answer must satisfy (`json_schema`'s schema; `json_object`: any object). */
  jsonSchema: JsonSchema | undefined;
  metadata: Record<string, string>;
  /** The agent asked for in `metadata.agent`, if any. */
  agent: string | undefined;
  /** Echoed as sent (the gateway passes no tools, so neither changes anything). */
  parallelToolCalls: boolean;
  toolChoice: "none" | "auto";
}

/** Validates a parsed JSON body; throws `InvalidRequestError` naming the first offending field. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  const req = parse(Body, body, []);
  refuseWhatCannotBeHonoured(req);
  if (req.input === undefined) {
    throw new InvalidRequestError(
      "Missing required parameter: 'input'.",
      "input",
      "missing_required_parameter",
    );
  }
  const agent = req.metadata?.agent;
  if (agent !== undefined && !AgentName.safeParse(agent).success) {
    throw new InvalidRequestError(
      `'${agent.slice(0, 64)}' is not an agent name (lowercase letters, digits and '-').`,
      "metadata.agent",
      "invalid_value",
    );
  }
  const messages =
    typeof req.input === "string"
      ? [{ role: "user" as const, parts: [{ type: "text" as const, text: req.input }] }]
      : req.input.map((item, i) => messageOf(item, i));
  checkEnding(messages, typeof req.input === "string");
  const { format, jsonSchema } = formatOf(req.text?.format);
  return {
    model: req.model || undefined,
    messages,
    instructions: req.instructions ?? null,
    stream: req.stream === true,
    store: req.store !== false,
    previousResponseId: req.previous_response_id ?? undefined,
    format,
    jsonSchema,
    metadata: req.metadata ?? {},
    agent,
    parallelToolCalls: req.parallel_tool_calls ?? true,
    toolChoice: req.tool_choice === "none" ? "none" : "auto",
  };
}

function refuseWhatCannotBeHonoured(req: z.infer<typeof Body>): void {
  const refuse = (param: string, message: string) => {
    throw new InvalidRequestError(message, param, "unsupported_parameter");
  };
  if (req.background === true)
    refuse("background", "Background responses are not supported: each response is answered on its request.");
  if (req.tools?.length)
    refuse("tools", "Tools are not supported yet: the agent uses its own tools, not the caller's.");
  if (req.tool_choice != null && req.tool_choice !== "none" && req.tool_choice !== "auto")
    refuse("tool_choice", "tool_choice is not supported without tools; only 'none' or 'auto'.");
  if (req.conversation != null)
    refuse("conversation", "Conversations are not supported; continue a response with previous_response_id.");
  if (req.prompt != null) refuse("prompt", "Prompt templates are not supported; send the input itself.");
  if (req.context_management?.length) refuse("context_management", "Context management is not supported.");
  if (req.top_logprobs != null && req.top_logprobs > 0)
    refuse("top_logprobs", "logprobs are not available from the agent.");
  if (req.stream_options && req.stream !== true)
    refuse("stream_options", "stream_options is only allowed with stream: true.");
  req.include?.forEach((value, i) => {
    if (!INCLUDABLE.has(value)) {
      throw new InvalidRequestError(
        `Invalid value for 'include[${i}]': '${value.slice(0, 100)}' is not one of ${[...INCLUDABLE].join(", ")}.`,
        `include[${i}]`,
        "invalid_value",
      );
    }
    if (NOT_INCLUDABLE.has(value)) refuse(`include[${i}]`, `'${value}' is not available from the agent.`);
  });
}

/** One input item, which must be a message; anything else is named and refused. */
function messageOf(item: unknown, i: number): InputMessage {
  const at = ["input", i];
  if (item !== null && typeof item === "object" && !Array.isArray(item)) {
    const type = (item as { type?: unknown }).type;
    if (type !== undefined && type !== "message") {
      const kind = String(type).slice(0, 64);
      throw new InvalidRequestError(
        /function_call|tool_call|_call_output$|_call$/.test(kind)
          ? `Input items of type '${kind}' are not supported yet: the gateway passes no tools, so there are no tool calls to continue.`
          : `Input items of type '${kind}' are not supported; send messages.`,
        paramOf([...at, "type"]),
        "unsupported_parameter",
      );
    }
  }
  const m = parse(Message, item, at);
  if (typeof m.content === "string") return { role: m.role, parts: [{ type: "text", text: m.content }] };
  return { role: m.role, parts: m.content.map((part, j) => partOf(m.role, part, [...at, "content", j])) };
}

function partOf(role: InputRole, part: { type: string }, at: (string | number)[]): InputPart {
  const unsupported = (message: string) =>
    new InvalidRequestError(message, paramOf([...at, "type"]), "unsupported_parameter");
  const accepts = role === "assistant" ? ["output_text", "refusal", "input_text"] : ["input_text"];
  if (role === "user") accepts.push("input_image");
  if (part.type === "input_image" && role !== "user") {
    throw unsupported(`Images are supported in user messages only, not in '${role}' messages.`);
  }
  if (part.type === "input_file") throw unsupported("File inputs are not supported; send text or images.");
  if (!accepts.includes(part.type)) {
    throw unsupported(
      `Content parts of type '${part.type.slice(0, 64)}' are not supported in '${role}' messages; use ${accepts.join(" or ")}.`,
    );
  }
  switch (part.type) {
    case "input_text":
      return { type: "text", text: parse(InputText, part, at).text };
    case "output_text":
      return { type: "text", text: parse(OutputText, part, at).text };
    case "refusal":
      return { type: "text", text: parse(Refusal, part, at).refusal };
    default: {
      const image = parse(InputImage, part, at);
      if (image.file_id != null) {
        throw new InvalidRequestError(
          "Images by file_id are not supported (there is no Files API); send a data URL in image_url.",
          paramOf([...at, "file_id"]),
          "unsupported_parameter",
        );
      }
      if (image.image_url == null) {
        throw new InvalidRequestError(
          "Missing required parameter: 'image_url'.",
          paramOf([...at, "image_url"]),
          "missing_required_parameter",
        );
      }
      return { type: "image", url: image.image_url, param: paramOf([...at, "image_url"]) ?? "input" };
    }
  }
}

/** The conversation must end with the user's request, and it must say something. */
function checkEnding(messages: InputMessage[], single: boolean): void {
  const last = messages.at(-1);
  if (!last)
    throw new InvalidRequestError("'input' is empty: send at least one message.", "input", "invalid_value");
  if (last.role !== "user") {
    throw new InvalidRequestError(
      `The input must end with a user message; it ends with '${last.role}'.`,
      "input",
      "unsupported_parameter",
    );
  }
  const said = last.parts.some((p) => p.type === "image" || p.text.trim() !== "");
  if (!said) {
    throw new InvalidRequestError(
      "The last user message is empty.",
      single ? "input" : `input[${messages.length - 1}].content`,
      "invalid_value",
    );
  }
}

function formatOf(raw: unknown): { format: TextFormat; jsonSchema: JsonSchema | undefined } {
  if (raw == null) return { format: { type: "text" }, jsonSchema: undefined };
  const type = (raw as { type?: unknown } | null)?.type;
  if (type === "text" || type === "json_object") {
    parse(z.object({ type: z.literal(type) }).strict(), raw, ["text", "format"]);
    // JSON mode is structured output with the loosest schema: one JSON object.
    return { format: { type }, jsonSchema: type === "json_object" ? { type: "object" } : undefined };
  }
  if (type === "json_schema") {
    const f = parse(JsonSchemaFormat, raw, ["text", "format"]);
    const schema = checkJsonSchema(f.schema, "text.format.schema");
    const format: TextFormat = {
      type: "json_schema",
      name: f.name,
      schema: f.schema,
      ...(f.strict !== undefined ? { strict: f.strict } : {}),
      ...(f.description !== undefined ? { description: f.description } : {}),
    };
    // The format's description tells the model what the object is for: the schema carries it.
    const described =
      f.description !== undefined && schema.description === undefined
        ? { ...schema, description: f.description }
        : schema;
    return { format, jsonSchema: described };
  }
  throw new InvalidRequestError(
    `Invalid value for 'text.format.type': '${String(type).slice(0, 64)}'; expected 'text', 'json_object' or 'json_schema'.`,
    "text.format.type",
    "invalid_value",
  );
}

function parse<T>(schema: z.ZodType<T>, value: unknown, at: (string | number)[]): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequestFrom(parsed.error, value, at);
  return parsed.data;
}

/** The first problem, as OpenAI's Responses API words it. */
function invalidRequestFrom(error: z.ZodError, value: unknown, at: (string | number)[]): InvalidRequestError {
  const issue = error.issues[0];
  if (!issue) return new InvalidRequestError("The request body is not valid.");
  const path = [...at, ...issue.path];
  if (issue.path.length > 0 && valueAt(value, issue.path) === undefined) {
    const param = paramOf(path);
    return new InvalidRequestError(
      `Missing required parameter: '${param}'.`,
      param,
      "missing_required_parameter",
    );
  }
  if (issue.code === "unrecognized_keys") {
    const param = paramOf([...path, issue.keys[0] ?? ""]);
    return new InvalidRequestError(`Unknown parameter: '${param}'.`, param, "unknown_parameter");
  }
  const param = paramOf(path);
  if (path.length === 0 && issue.code === "invalid_type") {
    return new InvalidRequestError("The request body must be a JSON object.", null, "invalid_json");
  }
  if (issue.code === "invalid_type" || issue.code === "invalid_union") {
    return new InvalidRequestError(`Invalid type for '${param}': ${issue.message}`, param, "invalid_type");
  }
  return new InvalidRequestError(`Invalid value for '${param}': ${issue.message}`, param, "invalid_value");
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path)
    v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}
