import { type ClientToolDef, JobSubmission } from "@claude-gateway/contracts";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { OPENAI_REFUSALS, paramOf } from "../request.js";
import { checkJsonSchema, type JsonSchema } from "../structured.js";
import { clientToolsOf, WHY } from "../tools/definitions.js";
import { type ContinuationResults, continuationOf } from "../tools/results.js";

/** A function tool as a response echoes it (the SDK's `FunctionTool`). */
export interface FunctionToolEcho {
  type: "function";
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean;
}

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
    // The caller's function tools (client tool calling); other kinds are refused by name.
    tools: z.array(z.unknown()).nullish(),
    tool_choice: z.unknown().optional(),
    // Listed to be refused when they ask for what the gateway cannot do.
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

const Status = z.enum(["in_progress", "completed", "incomplete"]).nullish();
/** A call of the caller's tools an earlier response made, passed back as input. */
const FunctionCallItem = z
  .object({
    type: z.literal("function_call"),
    call_id: z.string().min(1),
    name: z.string(),
    arguments: z.string(),
    id: z.string().nullish(),
    status: Status,
    // Accepted and ignored: what the SDK's helpers add to an output item (passed back as it is).
    parsed_arguments: z.unknown().optional(),
  })
  .strict();
/** The caller's result of a call: text, or text parts. */
const FunctionCallOutputItem = z
  .object({
    type: z.literal("function_call_output"),
    call_id: z.string().min(1),
    output: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())], {
      error: "expected a string or an array of content parts",
    }),
    id: z.string().nullish(),
    status: Status,
  })
  .strict();
/** A tool the client runs itself; the API's other tool types are refused by name. */
const FunctionTool = z
  .object({
    type: z.literal("function"),
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
    defer_loading: z.boolean().nullish(),
  })
  .strict();

const InputText = z.object({ type: z.literal("input_text"), text: z.string() }).strict();
const OutputText = z
  .object({
    type: z.literal("output_text"),
    text: z.string(),
    annotations: z.array(z.unknown()).optional(),
    logprobs: z.array(z.unknown()).optional(),
    // Accepted and ignored: what the SDK's helpers add to an output text (passed back as it is).
    parsed: z.unknown().optional(),
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
  type: "message";
  role: InputRole;
  parts: InputPart[];
}
/** A call of the caller's tools that an earlier response made. */
export interface InputFunctionCall {
  type: "function_call";
  callId: string;
  name: string;
  arguments: string;
}
/** The caller's result of a call, as text. */
export interface InputFunctionCallOutput {
  type: "function_call_output";
  callId: string;
  output: string;
}
export type InputItem = InputMessage | InputFunctionCall | InputFunctionCallOutput;

/** The request as the gateway uses it, after validation. */
export interface ResponsesRequest {
  model: string | undefined;
  /**
   * The conversation, ending with a user message (a string `input` is one) or, for a continuation,
   * with the outputs of the calls a paused job made.
   */
  input: InputItem[];
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
  /** Echoed as sent. */
  parallelToolCalls: boolean;
  toolChoice: "none" | "auto";
  /** The function tools as the response echoes them (also with tool_choice 'none'). */
  functionTools: FunctionToolEcho[];
  /** The caller's tools the job offers (client tool calling); undefined: none, or tool_choice 'none'. */
  tools: ClientToolDef[] | undefined;
  /** The input ends with `function_call_output` items: the results of a paused job's calls. */
  toolResults: ContinuationResults | undefined;
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
  const input: InputItem[] =
    typeof req.input === "string"
      ? [{ type: "message", role: "user", parts: [{ type: "text", text: req.input }] }]
      : req.input.map((item, i) => itemOf(item, i));
  checkEnding(input, typeof req.input === "string");
  const { format, jsonSchema } = formatOf(req.text?.format);
  const functionTools = (req.tools ?? []).map((tool, i) => functionToolOf(tool, i));
  const offered = functionTools.length > 0 && req.tool_choice !== "none";
  if (offered && format.type !== "text") {
    throw new InvalidRequestError(
      `text.format '${format.type}' cannot be combined with tools: ${WHY.withFormat}.`,
      "text.format",
      "unsupported_parameter",
    );
  }
  const tools = offered
    ? clientToolsOf(
        functionTools.map((tool, i) => ({
          ...tool,
          at: {
            name: ["tools", i, "name"],
            description: ["tools", i, "description"],
            parameters: ["tools", i, "parameters"],
            strict: ["tools", i, "strict"],
          },
        })),
        ["tools"],
        OPENAI_REFUSALS,
      )
    : undefined;
  return {
    model: req.model || undefined,
    input,
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
    functionTools: functionTools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      // Arguments are not checked against the schema, whatever was asked (`strict: true` is refused
      // when the tools are offered).
      strict: false,
    })),
    tools,
    toolResults: resultsOf(input),
  };
}

/** One tool of `tools`, which must be a function tool. */
function functionToolOf(raw: unknown, i: number): z.infer<typeof FunctionTool> {
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type === "string" && type !== "function") {
    throw new InvalidRequestError(
      `Tools of type '${type.slice(0, 64)}' are not supported; only 'function' tools (which the client runs) are.`,
      `tools[${i}].type`,
      "unsupported_parameter",
    );
  }
  const tool = parse(FunctionTool, raw, ["tools", i]);
  if (tool.defer_loading === true) {
    throw new InvalidRequestError(
      "Deferred tools are not supported (there is no tool search): every tool is offered as it is.",
      `tools[${i}].defer_loading`,
      "unsupported_parameter",
    );
  }
  return tool;
}

/** The results of an input that ends with `function_call_output` items, else undefined. */
function resultsOf(input: readonly InputItem[]): ContinuationResults | undefined {
  let first = input.length;
  while (first > 0 && input[first - 1]?.type === "function_call_output") first--;
  if (first === input.length) return undefined;
  const drafts = input.slice(first).map((item, j) => ({
    callId: (item as InputFunctionCallOutput).callId,
    content: (item as InputFunctionCallOutput).output,
    at: ["input", first + j, "call_id"],
    contentAt: ["input", first + j, "output"],
  }));
  return continuationOf(drafts, ["input"], OPENAI_REFUSALS);
}

function refuseWhatCannotBeHonoured(req: z.infer<typeof Body>): void {
  const refuse = (param: string, message: string) => {
    throw new InvalidRequestError(message, param, "unsupported_parameter");
  };
  if (req.background === true)
    refuse("background", "Background responses are not supported: each response is answered on its request.");
  const hasTools = (req.tools?.length ?? 0) > 0;
  if (!hasTools && req.tool_choice != null && req.tool_choice !== "none" && req.tool_choice !== "auto")
    refuse("tool_choice", "tool_choice is not supported without tools; only 'none' or 'auto'.");
  if (hasTools && req.tool_choice != null && req.tool_choice !== "none" && req.tool_choice !== "auto")
    refuse("tool_choice", toolChoiceRefusal(req.tool_choice));
  if (hasTools && req.tool_choice !== "none" && req.parallel_tool_calls === false)
    refuse("parallel_tool_calls", `parallel_tool_calls: false is not supported: ${WHY.parallelCalls}.`);
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

function toolChoiceRefusal(choice: unknown): string {
  const type = typeof choice === "string" ? choice : String((choice as { type?: unknown } | null)?.type);
  if (type === "allowed_tools") {
    return "tool_choice 'allowed_tools' is not supported: offer only the tools the model may call.";
  }
  if (type === "function" || type === "custom")
    return `tool_choice naming a tool is not supported: ${WHY.forcedCall}.`;
  return `tool_choice '${type.slice(0, 64)}' is not supported: ${WHY.forcedCall}.`;
}

/** One input item: a message, a function call or its output; anything else is named and refused. */
function itemOf(item: unknown, i: number): InputItem {
  const at = ["input", i];
  const type =
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? (item as { type?: unknown }).type
      : undefined;
  if (type === "function_call") {
    const call = parse(FunctionCallItem, item, at);
    return { type: "function_call", callId: call.call_id, name: call.name, arguments: call.arguments };
  }
  if (type === "function_call_output") {
    const output = parse(FunctionCallOutputItem, item, at);
    return {
      type: "function_call_output",
      callId: output.call_id,
      output: outputText(output.output, [...at, "output"]),
    };
  }
  if (type !== undefined && type !== "message") {
    throw new InvalidRequestError(
      `Input items of type '${String(type).slice(0, 64)}' are not supported; send messages, function calls and their outputs.`,
      paramOf([...at, "type"]),
      "unsupported_parameter",
    );
  }
  const m = parse(Message, item, at);
  if (typeof m.content === "string") {
    return { type: "message", role: m.role, parts: [{ type: "text", text: m.content }] };
  }
  return {
    type: "message",
    role: m.role,
    parts: m.content.map((part, j) => partOf(m.role, part, [...at, "content", j])),
  };
}

/** A call's output as text: a string, or its text parts joined by newlines. */
function outputText(output: string | Array<{ type: string }>, at: (string | number)[]): string {
  if (typeof output === "string") return output;
  return output
    .map((part, j) => {
      if (part.type !== "input_text") {
        throw new InvalidRequestError(
          `Function call outputs are text: parts of type '${part.type.slice(0, 64)}' are not supported in them.`,
          paramOf([...at, j, "type"]),
          "unsupported_parameter",
        );
      }
      return parse(InputText, part, [...at, j]).text;
    })
    .join("\n");
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

/**
 * The conversation must end with the user's request, and it must say something; or, to continue a
 * paused response, with the outputs of its calls.
 */
function checkEnding(items: InputItem[], single: boolean): void {
  const last = items.at(-1);
  if (!last)
    throw new InvalidRequestError("'input' is empty: send at least one message.", "input", "invalid_value");
  if (last.type === "function_call_output") return;
  if (last.type === "function_call") {
    throw new InvalidRequestError(
      "The input must end with a user message or with function_call_output items; it ends with a function_call item.",
      "input",
      "unsupported_parameter",
    );
  }
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
      single ? "input" : `input[${items.length - 1}].content`,
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
