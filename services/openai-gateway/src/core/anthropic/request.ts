import { type ClientToolDef, IMAGE_MEDIA_TYPES } from "@claude-gateway/contracts";
import { z } from "zod";
import { InvalidRequestError } from "../errors.js";
import { type ImageSource, imageFromBase64, imageSourceOf } from "../images.js";
import { AGENT_HEADER } from "../request.js";
import { checkJsonSchema, type JsonSchema } from "../structured.js";
import { clientToolsOf, type ToolDefinition, type ToolRefusals, WHY } from "../tools/definitions.js";
import { type ContinuationResults, continuationOf } from "../tools/results.js";

/**
 * The Messages API body (`POST /v1/messages`) this gateway accepts. Every field is listed: an
 * unknown one is a 400 naming it, as Anthropic does ("Extra inputs are not permitted"). Fields the
 * CLI cannot honour are accepted and ignored when their absence cannot mislead the caller, and
 * refused with a 400 naming the field when it would. Anthropic's error body has no `param`, so
 * every message starts with the field's path (`messages.0.content.1.type: …`).
 */

const CacheControl = z
  .object({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() })
  .strict()
  .nullish();

const TextBlock = z
  .object({
    type: z.literal("text"),
    text: z.string().min(1, "text content blocks must be non-empty"),
    // Accepted and ignored: the CLI manages its own prompt cache, and citations of an earlier
    // answer are metadata of that answer, not part of what it said.
    cache_control: CacheControl,
    citations: z.array(z.unknown()).nullish(),
  })
  .strict();

const Base64Source = z
  .object({ type: z.literal("base64"), media_type: z.enum(IMAGE_MEDIA_TYPES), data: z.string().min(1) })
  .strict();
const UrlSource = z.object({ type: z.literal("url"), url: z.string().min(1) }).strict();

const ImageBlock = z
  .object({
    type: z.literal("image"),
    source: z.object({ type: z.string() }).loose(),
    cache_control: CacheControl,
    transformations: z
      .object({ oversized_image: z.enum(["downsize", "error"]).optional() })
      .strict()
      .nullish(),
  })
  .strict();

/** Thinking of an earlier turn: accepted and dropped, as Anthropic drops it from earlier turns. */
const ThinkingBlock = z
  .object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() })
  .strict();
const RedactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string() }).strict();

/** Any block, read by its `type` first so that an unsupported one is refused by name. */
const Block = z.object({ type: z.string() }).loose();

/** A call of the caller's tools in an earlier assistant message (as a response gave it, `caller` too). */
const ToolUseBlock = z
  .object({
    type: z.literal("tool_use"),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    caller: z.object({ type: z.string() }).loose().nullish(),
    toolset_name: z.string().nullish(),
    cache_control: CacheControl,
  })
  .strict();
/** The caller's result of a call: text (a string or text blocks). */
const ToolResultBlock = z
  .object({
    type: z.literal("tool_result"),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(Block)]).optional(),
    is_error: z.boolean().nullish(),
    toolset_name: z.string().nullish(),
    cache_control: CacheControl,
  })
  .strict();

/** A tool the client runs itself (`type` absent or `custom`); the API's server tools are refused by name. */
const ClientTool = z
  .object({
    type: z.literal("custom").nullish(),
    name: z.string(),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
    // Accepted and ignored: a prompt-cache hint, a streaming hint, and examples the schema does not need.
    cache_control: CacheControl,
    eager_input_streaming: z.boolean().nullish(),
    input_examples: z.array(z.record(z.string(), z.unknown())).nullish(),
    defer_loading: z.boolean().nullish(),
    allowed_callers: z.array(z.string()).nullish(),
  })
  .strict();
const Content = z.union([z.string(), z.array(Block)]);

const Message = z
  .object({
    // `system` messages are in SDK 1.17's `MessageParam`: instructions, like the top-level `system`.
    role: z.enum(["user", "assistant", "system"]),
    content: Content,
  })
  .strict();

const OutputFormat = z.object({ type: z.literal("json_schema"), schema: z.unknown() }).strict();

export const MessagesRequestBody = z
  .object({
    model: z.string().min(1).max(100),
    // Required, as Anthropic requires it, and ignored: the CLI has no output-token limit to set.
    // The job's budget and timeout bound what an answer costs.
    max_tokens: z.number().int().nonnegative(),
    messages: z.array(Message).min(1, "at least one message is required"),
    system: z.union([z.string(), z.array(z.unknown())]).nullish(),
    stop_sequences: z
      .array(z.string().refine((s) => s.trim() !== "", "each stop sequence must contain non-whitespace"))
      .max(64)
      .nullish(),
    stream: z.boolean().nullish(),
    metadata: z
      .object({ user_id: z.string().max(256).nullish() })
      .strict()
      .nullish(),
    // Accepted and ignored: sampling and serving knobs the CLI does not expose.
    temperature: z.number().min(0).max(1).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    top_k: z.number().int().nonnegative().nullish(),
    service_tier: z.enum(["auto", "standard_only"]).nullish(),
    speed: z.enum(["standard", "fast"]).nullish(),
    cache_control: CacheControl,
    diagnostics: z.object({ previous_message_id: z.string().nullish() }).strict().nullish(),
    output_config: z
      .object({
        effort: z.enum(["low", "medium", "high", "xhigh", "max"]).nullish(),
        format: OutputFormat.nullish(),
      })
      .strict()
      .nullish(),
    // The beta API's name for `output_config.format`.
    output_format: OutputFormat.nullish(),
    // Listed to be refused when they ask for what the gateway cannot do.
    inference_geo: z.string().nullish(),
    tools: z.array(z.unknown()).nullish(),
    tool_choice: z.object({ type: z.string() }).loose().nullish(),
    thinking: z
      .discriminatedUnion("type", [
        z
          .object({
            type: z.literal("enabled"),
            budget_tokens: z.number().int(),
            display: z.enum(["summarized", "omitted"]).nullish(),
          })
          .strict(),
        z.object({ type: z.literal("disabled") }).strict(),
        z.object({ type: z.literal("between_tools") }).strict(),
        z
          .object({ type: z.literal("adaptive"), display: z.enum(["summarized", "omitted"]).nullish() })
          .strict(),
      ])
      .nullish(),
    mcp_servers: z.array(z.unknown()).nullish(),
    container: z.unknown().optional(),
  })
  .strict();
export type MessagesRequestBody = z.infer<typeof MessagesRequestBody>;

/**
 * A piece of a validated message, in order: its text, or an image — inline (checked), or a URL the
 * gateway fetches only from an allowlisted host (`param` is where the image is in the request); a
 * call of the caller's tools (assistant), or the caller's result of one (user; `at` is the block).
 */
export type TurnPart =
  | { type: "text"; text: string }
  | { type: "image"; source: ImageSource; param: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | {
      type: "tool_result";
      toolUseId: string;
      content: string;
      isError: boolean;
      at: (string | number)[];
    };

export interface Turn {
  role: "user" | "assistant" | "system";
  parts: TurnPart[];
}

/** The request as the gateway uses it, after validation. */
export interface MessagesRequest {
  model: string;
  stream: boolean;
  stop: string[];
  /** The top-level `system`, as text. */
  system: string | undefined;
  /** The conversation; thinking blocks of earlier turns are dropped. */
  turns: Turn[];
  /** `output_config.format.schema` (or `output_format.schema`), checked. */
  jsonSchema: JsonSchema | undefined;
  /** The caller's tools the job offers (client tool calling); undefined: none, or tool_choice none. */
  tools: ClientToolDef[] | undefined;
  /** The last user message holds tool results: the results of the calls a paused job made. */
  toolResults: ContinuationResults | undefined;
}

/** An Anthropic `param` path: `messages.0.content.1.type`. */
export function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/** A refusal: what the request asks for cannot be given, and ignoring it would mislead. */
function unsupported(path: readonly PropertyKey[], message: string): InvalidRequestError {
  const param = pathOf(path);
  return new InvalidRequestError(`${param}: ${message}`, param, "unsupported_parameter");
}

function invalid(path: readonly PropertyKey[], message: string, code = "invalid_value"): InvalidRequestError {
  const param = pathOf(path) || null;
  return new InvalidRequestError(param ? `${param}: ${message}` : message, param, code);
}

/** Anthropic's spelling of a field and of a 400, for the tools' checks. */
const ANTHROPIC: ToolRefusals = { param: pathOf, error: invalid };

/** Validates a parsed JSON body; throws `InvalidRequestError` naming the first offending field. */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  const parsed = MessagesRequestBody.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  const req = parsed.data;

  if (req.max_tokens === 0) {
    throw unsupported(
      ["max_tokens"],
      "0 (warming the prompt cache without an answer) is not supported: every request runs the agent.",
    );
  }
  const offered = toolsOf(req);
  const tools = offered ? clientToolsOf(offered, ["tools"], ANTHROPIC) : undefined;
  if (req.thinking?.type === "enabled") {
    throw unsupported(
      ["thinking"],
      "extended thinking is not supported: the agent's thinking is not returned. Use 'adaptive' or 'disabled'.",
    );
  }
  if (req.mcp_servers?.length) {
    throw unsupported(["mcp_servers"], "MCP servers are not supported: the agent has its own.");
  }
  if (req.container != null) {
    throw unsupported(["container"], "containers are not supported: the agent runs in its own workspace.");
  }
  if (req.inference_geo != null) {
    throw unsupported(["inference_geo"], "the region of inference cannot be chosen through this gateway.");
  }
  const format = outputFormatOf(req);
  if (tools && format) {
    throw unsupported(
      format.at,
      `a structured output format cannot be combined with tools: ${WHY.withFormat}.`,
    );
  }

  const turns = req.messages.map((m, i) => turnOf(m, i));
  checkToolResults(turns);
  const lastAt = turns.length - 1;
  const last = turns[lastAt]!;
  if (last.role !== "user") {
    throw invalid(
      ["messages", lastAt, "role"],
      `the conversation must end with a user message; it ends with '${last.role}' (prefill is not supported).`,
    );
  }
  const results = last.parts.flatMap((p) => (p.type === "tool_result" ? [p] : []));
  if (results.length > 0) {
    // A continuation: the results go to the paused job, and nothing else can go with them.
    const content = req.messages[lastAt]?.content;
    const other = Array.isArray(content) ? content.findIndex((block) => block.type !== "tool_result") : -1;
    if (other >= 0) {
      throw unsupported(
        ["messages", lastAt, "content", other, "type"],
        "nothing can be sent beside tool results: they go to the paused response on their own. Send it in a later message.",
      );
    }
  } else if (!last.parts.some((p) => p.type === "image" || (p.type === "text" && p.text.trim() !== ""))) {
    throw invalid(["messages", lastAt, "content"], "the last user message is empty.");
  }
  return {
    model: req.model,
    stream: req.stream === true,
    stop: req.stop_sequences ?? [],
    system: systemOf(req.system),
    turns,
    jsonSchema: format ? checkJsonSchema(format.schema, format.param) : undefined,
    tools,
    toolResults:
      results.length > 0
        ? continuationOf(
            results.map((r) => ({
              callId: r.toolUseId,
              content: r.content,
              isError: r.isError,
              at: [...r.at, "tool_use_id"],
              contentAt: [...r.at, "content"],
            })),
            ["messages", lastAt, "content"],
            ANTHROPIC,
          )
        : undefined,
  };
}

/**
 * The caller's tools the request offers (none with tool_choice none), checked for what the API
 * takes; refuses a server tool, a forced call and a promise of one call at a time.
 */
function toolsOf(req: MessagesRequestBody): ToolDefinition[] | undefined {
  const choice = req.tool_choice;
  if (!req.tools?.length) {
    if (choice != null && !["none", "auto"].includes(choice.type)) {
      throw unsupported(["tool_choice"], `'${choice.type}' is not supported without tools.`);
    }
    return undefined;
  }
  const tools = req.tools.map((raw, i): ToolDefinition => {
    const at = ["tools", i];
    const type = (raw as { type?: unknown } | null)?.type;
    if (typeof type === "string" && type !== "custom") {
      throw unsupported(
        [...at, "type"],
        `'${type.slice(0, 64)}' tools are not supported: the gateway runs no server tools; define your own (name, description, input_schema) and run it.`,
      );
    }
    const tool = parseAt(ClientTool, raw, at);
    if (tool.defer_loading === true) {
      throw unsupported(
        [...at, "defer_loading"],
        "deferred tools are not supported (there is no tool search): every tool is offered as it is.",
      );
    }
    if (tool.allowed_callers?.some((caller) => caller !== "direct")) {
      throw unsupported(
        [...at, "allowed_callers"],
        "only 'direct' is supported: there is no code execution tool to call tools from.",
      );
    }
    return {
      name: tool.name,
      description: tool.description,
      parameters: tool.input_schema,
      strict: tool.strict,
      at: {
        name: [...at, "name"],
        description: [...at, "description"],
        parameters: [...at, "input_schema"],
        strict: [...at, "strict"],
      },
    };
  });
  if (choice == null || choice.type === "auto") {
    if (choice?.disable_parallel_tool_use === true) {
      throw unsupported(
        ["tool_choice", "disable_parallel_tool_use"],
        `true is not supported: ${WHY.parallelCalls}.`,
      );
    }
    return tools;
  }
  if (choice.type === "none") return undefined;
  if (choice.type === "any" || choice.type === "tool") {
    throw unsupported(["tool_choice"], `'${choice.type}' is not supported: ${WHY.forcedCall}.`);
  }
  throw invalid(
    ["tool_choice", "type"],
    `'${choice.type.slice(0, 64)}' is not a tool_choice; use 'auto' or 'none'.`,
  );
}

/**
 * Each tool result answers a call of the assistant message right before it, as Anthropic has it
 * (so a result's tool is always known).
 */
function checkToolResults(turns: readonly Turn[]): void {
  turns.forEach((turn, i) => {
    const before = turns[i - 1];
    const calls = new Set(
      before?.role === "assistant" ? before.parts.flatMap((p) => (p.type === "tool_use" ? [p.id] : [])) : [],
    );
    for (const part of turn.parts) {
      if (part.type === "tool_result" && !calls.has(part.toolUseId)) {
        throw invalid(
          [...part.at, "tool_use_id"],
          `'${part.toolUseId.slice(0, 300)}' answers no tool_use block of the previous message: each tool_result block answers a tool_use block of the assistant message right before it.`,
        );
      }
    }
  });
}

function outputFormatOf(
  req: MessagesRequestBody,
): { schema: unknown; param: string; at: string[] } | undefined {
  const config = req.output_config?.format;
  const beta = req.output_format;
  if (config && beta) {
    throw invalid(
      ["output_format"],
      "give the format once, in output_config.format (output_format is its old name).",
    );
  }
  if (config)
    return { schema: config.schema, param: "output_config.format.schema", at: ["output_config", "format"] };
  if (beta) return { schema: beta.schema, param: "output_format.schema", at: ["output_format"] };
  return undefined;
}

function systemOf(system: MessagesRequestBody["system"]): string | undefined {
  if (system == null) return undefined;
  if (typeof system === "string") return system;
  const texts = system.map((block, j) => {
    const at = ["system", j];
    const type = (block as { type?: unknown } | null)?.type;
    if (typeof type === "string" && type !== "text") {
      throw invalid([...at, "type"], `'${type}' blocks are not supported in system; send text.`);
    }
    return parseAt(TextBlock, block, at).text;
  });
  return texts.join("\n");
}

type RawMessage = MessagesRequestBody["messages"][number];

function turnOf(m: RawMessage, i: number): Turn {
  const at = ["messages", i];
  if (typeof m.content === "string") {
    return { role: m.role, parts: m.content === "" ? [] : [{ type: "text", text: m.content }] };
  }
  const parts: TurnPart[] = [];
  m.content.forEach((block, j) => {
    const where = [...at, "content", j];
    const part = partOf(m.role, block, where);
    if (part) parts.push(part);
  });
  return { role: m.role, parts };
}

/** Why a block type is refused, by type; anything not named here and not accepted is refused too. */
const REFUSED_BLOCKS: Record<string, string> = {
  tool_use: "tool_use blocks are taken in assistant messages only: they are the model's calls.",
  tool_result:
    "tool_result blocks are taken in user messages only: they are the results of the model's calls.",
  server_tool_use: "server tools are not supported.",
  document: "document blocks are not supported; send the document's text, or its pages as images.",
  search_result: "search_result blocks are not supported; send their text.",
};

function partOf(
  role: Turn["role"],
  block: z.infer<typeof Block>,
  at: (string | number)[],
): TurnPart | undefined {
  const refuse = (why: string) => unsupported([...at, "type"], why);
  if (block.type === "text") return { type: "text", text: parseAt(TextBlock, block, at).text };
  if (block.type === "image" && role === "user") {
    const image = parseAt(ImageBlock, block, at);
    const sourceAt = [...at, "source"];
    if (image.transformations?.oversized_image === "error") {
      throw unsupported(
        [...at, "transformations", "oversized_image"],
        "'error' is not supported: the model's side may scale an image down without telling.",
      );
    }
    const param = pathOf(sourceAt);
    if (image.source.type === "url") {
      const { url } = parseAt(UrlSource, image.source, sourceAt);
      return { type: "image", source: imageSourceOf(url, param), param };
    }
    if (image.source.type !== "base64") {
      throw unsupported(
        [...sourceAt, "type"],
        `'${image.source.type}' image sources are not supported; send the image as base64 or a URL.`,
      );
    }
    const source = parseAt(Base64Source, image.source, sourceAt);
    return {
      type: "image",
      source: { kind: "inline", image: imageFromBase64(source.media_type, source.data, param) },
      param,
    };
  }
  if (block.type === "tool_use" && role === "assistant") {
    const call = parseAt(ToolUseBlock, block, at);
    return { type: "tool_use", id: call.id, name: call.name, input: call.input };
  }
  if (block.type === "tool_result" && role === "user") {
    const result = parseAt(ToolResultBlock, block, at);
    return {
      type: "tool_result",
      toolUseId: result.tool_use_id,
      content: resultText(result.content, [...at, "content"]),
      isError: result.is_error === true,
      at,
    };
  }
  if (role === "assistant" && (block.type === "thinking" || block.type === "redacted_thinking")) {
    if (block.type === "thinking") parseAt(ThinkingBlock, block, at);
    else parseAt(RedactedThinkingBlock, block, at);
    return undefined;
  }
  const why = REFUSED_BLOCKS[block.type];
  if (why) throw refuse(why);
  if (block.type.endsWith("_tool_result")) throw refuse("server tool results are not supported.");
  throw refuse(`'${block.type}' blocks are not supported in ${role} messages.`);
}

/** A tool result's content as text: a string, or its text blocks joined by newlines. */
function resultText(
  content: string | Array<z.infer<typeof Block>> | undefined,
  at: (string | number)[],
): string {
  if (content === undefined || typeof content === "string") return content ?? "";
  return content
    .map((block, k) => {
      const where = [...at, k];
      if (block.type !== "text") {
        throw unsupported(
          [...where, "type"],
          block.type === "image"
            ? "images in tool results are not supported: a result is text."
            : `'${block.type.slice(0, 64)}' blocks are not supported in tool results; send text.`,
        );
      }
      return parseAt(TextBlock, block, where).text;
    })
    .join("\n");
}

/** A block checked against its own schema; a problem is reported at its path in the request. */
function parseAt<T>(schema: z.ZodType<T>, value: unknown, at: readonly PropertyKey[]): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw fromZod(r.error, at);
}

function fromZod(error: z.ZodError, prefix: readonly PropertyKey[] = []): InvalidRequestError {
  // The first problem is the one reported, as Anthropic does.
  const issue = error.issues[0];
  if (!issue) return invalid(prefix, "the request body is not valid.");
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const at = [...path, key];
    // Anthropic's metadata has no agent; the gateway's agent is chosen by a header.
    const hint = pathOf(at) === "metadata.agent" ? ` (choose the agent with the ${AGENT_HEADER} header)` : "";
    return invalid(at, `Extra inputs are not permitted${hint}`, "unknown_parameter");
  }
  if (path.length === 0 && issue.code === "invalid_type") {
    return invalid([], "The request body must be a JSON object.", "invalid_json");
  }
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
    return invalid(path, "Field required");
  }
  return invalid(path, issue.message);
}
