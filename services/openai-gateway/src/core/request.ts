import { type ClientToolDef, JobSubmission } from "@claude-gateway/contracts";
import { z } from "zod";
import { InvalidRequestError } from "./errors.js";
import { checkImageCount, imageMarker, imageSourceOf, type RequestImage } from "./images.js";
import { checkJsonSchema, type JsonSchema } from "./structured.js";
import { clientToolsOf, type ToolRefusals, WHY } from "./tools/definitions.js";
import { type ContinuationResults, continuationOf } from "./tools/results.js";
import type { PastToolCall, PastToolResult } from "./tools/transcript.js";

/** An agent's name as the executor accepts it (`agents/<name>.md`). */
const AgentName = JobSubmission.shape.agent;

/** The header that asks for an agent other than the gateway's default (as `metadata.agent` does). */
export const AGENT_HEADER = "x-claude-agent";

/**
 * The chat-completions body this gateway accepts. Every field is listed: an unknown one is a 400
 * naming it, as OpenAI does. Fields the CLI cannot honour are either accepted and ignored (their
 * absence cannot mislead the caller) or refused with a 400 naming the field (it would).
 */

/** Text and image parts are used; the others (audio, file) are listed so they can be refused by name. */
const Part = z.object({ type: z.string(), text: z.unknown().optional() }).loose();
const TextPart = z.object({ type: z.literal("text"), text: z.string() }).strict();
const ImagePart = z
  .object({
    type: z.literal("image_url"),
    image_url: z
      .object({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() })
      .strict(),
  })
  .strict();

/** `response_format`: free text, any JSON object, or an object valid against a JSON schema. */
const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).strict(),
  z.object({ type: z.literal("json_object") }).strict(),
  z
    .object({
      type: z.literal("json_schema"),
      json_schema: z
        .object({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' and '-', at most 64"),
          description: z.string().optional(),
          schema: z.unknown().optional(),
          strict: z.boolean().nullish(),
        })
        .strict(),
    })
    .strict(),
]);
const Content = z.union([z.string(), z.array(Part)]);
const Name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '_' and '-', at most 64");

/** A tool the client runs itself (client tool calling); other types are listed to be refused by name. */
const FunctionTool = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string(),
        description: z.string().nullish(),
        parameters: z.unknown().optional(),
        strict: z.boolean().nullish(),
      })
      .strict(),
  })
  .strict();
/** A call of an earlier assistant message: what the client got from a response, passed back. */
const FunctionCall = z
  .object({
    id: z.string().min(1),
    type: z.literal("function"),
    function: z
      .object({
        name: z.string(),
        arguments: z.string(),
        // Accepted and ignored: what the SDK's helpers add to a call they return.
        parsed_arguments: z.unknown().optional(),
      })
      .strict(),
  })
  .strict();
const Typed = z.object({ type: z.string() }).loose();

const instruction = <R extends string>(role: R) =>
  z.object({ role: z.literal(role), content: Content, name: Name.optional() }).strict();

const Message = z.discriminatedUnion("role", [
  instruction("system"),
  instruction("developer"),
  z.object({ role: z.literal("user"), content: Content, name: Name.optional() }).strict(),
  z
    .object({
      role: z.literal("assistant"),
      content: Content.nullish(),
      name: Name.optional(),
      refusal: z.string().nullish(),
      // Accepted and ignored: what the SDK's helpers add to a message they return (sent back as it is).
      parsed: z.unknown().optional(),
      annotations: z.array(z.unknown()).nullish(),
      tool_calls: z.array(Typed).nullish(),
      function_call: z.unknown().optional(),
      audio: z.unknown().optional(),
    })
    .strict(),
  z.object({ role: z.literal("tool"), content: Content, tool_call_id: z.string() }).strict(),
  // Listed to be refused with a clear message: the legacy functions' results.
  z.object({ role: z.literal("function") }).loose(),
]);

export const ChatCompletionRequest = z
  .object({
    model: z.string().max(100).nullish(),
    messages: z.array(Message).min(1, "at least one message"),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    n: z.number().int().positive().nullish(),
    // Accepted and ignored: sampling and length knobs the CLI does not expose. The answer is still
    // an answer; the per-call budget and timeout bound what it costs.
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    seed: z.number().int().nullish(),
    user: z.string().max(256).nullish(),
    // OpenAI's string map; `agent` asks for an agent (the caller's policy must list it), the rest is ignored.
    metadata: z.record(z.string(), z.string()).nullish(),
    store: z.boolean().nullish(),
    service_tier: z.string().nullish(),
    reasoning_effort: z.string().nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    // Listed to be refused when they ask for what the CLI cannot do.
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    tools: z.array(Typed).nullish(),
    tool_choice: z.unknown().optional(),
    functions: z.array(z.unknown()).nullish(),
    function_call: z.unknown().optional(),
    response_format: z.object({ type: z.string() }).loose().nullish(),
    modalities: z.array(z.string()).nullish(),
    audio: z.unknown().optional(),
    prediction: z.unknown().optional(),
    web_search_options: z.unknown().optional(),
  })
  .strict()
  .superRefine((req, ctx) => {
    const refuse = (path: (string | number)[], message: string, code = "unsupported_parameter") =>
      ctx.addIssue({ code: "custom", path, message, params: { code } });
    /** A part checked against its own schema; its problem is reported at its path. */
    const check = (schema: z.ZodType, value: unknown, at: (string | number)[]) => {
      const issue = schema.safeParse(value).error?.issues[0];
      if (issue)
        ctx.addIssue({ ...issue, path: [...at, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
    };
    if (req.n != null && req.n !== 1)
      refuse(["n"], "Only n=1 is supported: the agent gives one answer per request.");
    req.tools?.forEach((tool, i) => {
      if (tool.type !== "function") {
        refuse(
          ["tools", i, "type"],
          `Tools of type '${tool.type.slice(0, 64)}' are not supported; only 'function' tools (which the client runs) are.`,
        );
      } else {
        check(FunctionTool, tool, ["tools", i]);
      }
    });
    if (req.functions?.length)
      refuse(["functions"], "The legacy 'functions' are not supported; send them as 'tools'.");
    const offersTools = toolsOffered(req);
    if (!req.tools?.length && req.tool_choice != null && req.tool_choice !== "none")
      refuse(["tool_choice"], "tool_choice is not supported without tools.");
    else if (offersTools && req.tool_choice != null && req.tool_choice !== "auto")
      refuse(["tool_choice"], toolChoiceRefusal(req.tool_choice));
    if (offersTools && req.parallel_tool_calls === false)
      refuse(["parallel_tool_calls"], `parallel_tool_calls: false is not supported: ${WHY.parallelCalls}.`);
    if (offersTools && req.response_format && req.response_format.type !== "text") {
      refuse(
        ["response_format"],
        `response_format '${String(req.response_format.type).slice(0, 64)}' cannot be combined with tools: ${WHY.withFormat}.`,
      );
    }
    if (req.function_call != null && req.function_call !== "none")
      refuse(["function_call"], "function_call is not supported; use tools and tool_choice.");
    if (req.logprobs === true) refuse(["logprobs"], "logprobs are not available from the agent.");
    if (req.top_logprobs != null && req.top_logprobs > 0)
      refuse(["top_logprobs"], "logprobs are not available from the agent.");
    if (req.logit_bias && Object.keys(req.logit_bias).length > 0)
      refuse(["logit_bias"], "logit_bias is not supported.");
    if (req.response_format) {
      const format = ResponseFormat.safeParse(req.response_format);
      const issue = format.error?.issues[0];
      if (issue?.code === "invalid_union") {
        refuse(
          ["response_format", "type"],
          `response_format '${String(req.response_format.type).slice(0, 64)}' is not supported; use text, json_object or json_schema.`,
        );
      } else if (issue) {
        ctx.addIssue({ ...issue, path: ["response_format", ...issue.path] } as Parameters<
          typeof ctx.addIssue
        >[0]);
      }
    }
    if (req.modalities?.some((m) => m !== "text"))
      refuse(["modalities"], "Only the text modality is supported.");
    if (req.audio != null) refuse(["audio"], "Audio output is not supported.");
    if (req.prediction != null) refuse(["prediction"], "Predicted outputs are not supported.");
    if (req.web_search_options != null)
      refuse(["web_search_options"], "web_search_options is not supported.");
    const agent = req.metadata?.agent;
    if (agent !== undefined && !AgentName.safeParse(agent).success) {
      ctx.addIssue({
        code: "custom",
        path: ["metadata", "agent"],
        message: `'${agent.slice(0, 64)}' is not an agent name (lowercase letters, digits and '-').`,
        params: { code: "invalid_value" },
      });
    }
    if (req.stream_options && !req.stream)
      refuse(["stream_options"], "stream_options is only allowed with stream: true.");
    /** The ids of the calls a 'tool' message here may answer: those of the assistant message before. */
    let answerable: Set<string> | undefined;
    req.messages.forEach((m, i) => {
      if (m.role === "function") {
        refuse(
          ["messages", i, "role"],
          "'function' messages are not supported; use tools and 'tool' messages.",
        );
        return;
      }
      if (m.role === "tool" && !answerable?.has(m.tool_call_id)) {
        refuse(
          ["messages", i, "tool_call_id"],
          `'${m.tool_call_id.slice(0, 300)}' answers no tool call of the assistant message before it: a 'tool' message follows an assistant message with tool_calls and gives the result of one of them.`,
          "invalid_value",
        );
      }
      if (m.role !== "tool") answerable = undefined;
      if (m.role === "assistant") {
        answerable = new Set();
        m.tool_calls?.forEach((call, k) => {
          const at = ["messages", i, "tool_calls", k];
          if (call.type !== "function") {
            refuse(
              [...at, "type"],
              `Tool calls of type '${call.type.slice(0, 64)}' are not supported; only 'function' calls are.`,
            );
            return;
          }
          check(FunctionCall, call, at);
          if (typeof call.id === "string") answerable?.add(call.id);
        });
        if (m.function_call != null)
          refuse(["messages", i, "function_call"], "Function calls are not supported.");
        if (m.audio != null) refuse(["messages", i, "audio"], "Audio is not supported.");
      }
      if (Array.isArray(m.content)) {
        m.content.forEach((part, j) => {
          const at = ["messages", i, "content", j];
          if (part.type === "image_url" && m.role !== "user") {
            refuse([...at, "type"], `Images are taken in user messages only, not in '${m.role}' messages.`);
            return;
          }
          if (part.type !== "text" && part.type !== "image_url") {
            refuse(
              [...at, "type"],
              `Content parts of type '${part.type}' are not supported; send text and image_url.`,
            );
            return;
          }
          const checked = (part.type === "text" ? TextPart : ImagePart).safeParse(part);
          const issue = checked.error?.issues[0];
          if (issue)
            ctx.addIssue({ ...issue, path: [...at, ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
        });
      }
    });
    const last = req.messages.at(-1);
    // Ending with 'tool' messages, it is a continuation: the results of the calls a paused job made.
    if (last && last.role !== "user" && last.role !== "tool") {
      refuse(
        ["messages"],
        `The conversation must end with a user message (or with 'tool' messages that answer tool calls); it ends with '${last.role}'.`,
      );
    } else if (
      last?.role === "user" &&
      textOf(last.content as MessageContent).trim() === "" &&
      !(Array.isArray(last.content) && last.content.some((p) => p.type === "image_url"))
    ) {
      refuse(["messages", req.messages.length - 1, "content"], "The last user message is empty.");
    }
  });

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** Whether the request offers the job its tools: it has some, and tool_choice is not 'none'. */
function toolsOffered(req: { tools?: unknown[] | null; tool_choice?: unknown }): boolean {
  return (req.tools?.length ?? 0) > 0 && req.tool_choice !== "none";
}

function toolChoiceRefusal(choice: unknown): string {
  const type = typeof choice === "string" ? choice : String((choice as { type?: unknown } | null)?.type);
  if (type === "allowed_tools") {
    return "tool_choice 'allowed_tools' is not supported: offer only the tools the model may call.";
  }
  if (type === "function" || type === "custom") {
    return `tool_choice naming a tool is not supported: ${WHY.forcedCall}.`;
  }
  return `tool_choice '${type.slice(0, 64)}' is not supported: ${WHY.forcedCall}.`;
}

/**
 * A message of a request that passed validation: the roles and parts the gateway turns into a
 * prompt. An assistant message may carry the tool calls it made, and a `tool` message is the
 * result of one (its tool's name found from the call).
 */
export type ChatMessage =
  | { role: "system" | "developer" | "user"; content: MessageContent; name?: string }
  | { role: "assistant"; content?: MessageContent | null; name?: string; toolCalls?: PastToolCall[] }
  | ({ role: "tool" } & PastToolResult);
export type MessageContent = string | Array<{ type: string; text?: unknown }>;

/** The request as the gateway uses it, after validation. */
export interface ChatRequest {
  model: string | undefined;
  /** The messages, each image part replaced by a text part naming it (`[image 1]`). */
  messages: ChatMessage[];
  /** The images, in order: `[image n]` is the n-th. */
  images: RequestImage[];
  /** The schema of the answer (`response_format` json_schema or json_object), if any. */
  jsonSchema: JsonSchema | undefined;
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  /** The agent asked for in `metadata.agent`, if any. */
  agent: string | undefined;
  /** The caller's tools the job offers (client tool calling); undefined: none, or tool_choice 'none'. */
  tools: ClientToolDef[] | undefined;
  /** The request ends with 'tool' messages: the results of the calls a paused job made. */
  toolResults: ContinuationResults | undefined;
}

/** OpenAI's spelling of a field and of a 400, for the tools' checks (chat completions and Responses). */
export const OPENAI_REFUSALS: ToolRefusals = {
  param: (path) => paramOf(path) ?? "",
  error: (path, message, code) => new InvalidRequestError(message, paramOf(path), code),
};

/** Validates a parsed JSON body; throws `InvalidRequestError` naming the first offending field. */
export function parseChatRequest(body: unknown): ChatRequest {
  const parsed = ChatCompletionRequest.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error);
  const req = parsed.data;
  const stop = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  const tools = toolsOffered(req)
    ? clientToolsOf(
        (req.tools ?? []).map((tool, i) => {
          const fn = (tool as unknown as z.infer<typeof FunctionTool>).function;
          const at = (field: string) => ["tools", i, "function", field];
          return {
            ...fn,
            at: {
              name: at("name"),
              description: at("description"),
              parameters: at("parameters"),
              strict: at("strict"),
            },
          };
        }),
        ["tools"],
        OPENAI_REFUSALS,
      )
    : undefined;
  const { messages, images } = withImageMarkers(chatMessagesOf(req.messages));
  return {
    model: req.model || undefined,
    messages,
    images,
    jsonSchema: schemaOf(req.response_format as z.infer<typeof ResponseFormat> | null | undefined),
    stream: req.stream === true,
    includeUsage: req.stream_options?.include_usage === true,
    stop: stop.filter((s) => s !== ""),
    agent: req.metadata?.agent,
    tools,
    toolResults: resultsOf(req.messages),
  };
}

type RawMessage = ChatCompletionRequest["messages"][number];

/** The messages as the prompt takes them: tool calls as calls, results with their tool's name. */
function chatMessagesOf(raw: readonly RawMessage[]): ChatMessage[] {
  const names = new Map<string, string>();
  return raw.map((m): ChatMessage => {
    if (m.role === "tool") {
      return { role: "tool", name: names.get(m.tool_call_id), content: textOf(m.content as MessageContent) };
    }
    if (m.role !== "assistant" || !m.tool_calls?.length) return m as ChatMessage;
    const { tool_calls, ...rest } = m;
    const toolCalls = (tool_calls as unknown as z.infer<typeof FunctionCall>[]).map((call) => {
      names.set(call.id, call.function.name);
      return { name: call.function.name, arguments: call.function.arguments };
    });
    return { ...(rest as Extract<ChatMessage, { role: "assistant" }>), toolCalls };
  });
}

/** The results of a request that ends with 'tool' messages (validated to answer calls), else undefined. */
function resultsOf(raw: readonly RawMessage[]): ContinuationResults | undefined {
  let first = raw.length;
  while (first > 0 && raw[first - 1]?.role === "tool") first--;
  if (first === raw.length) return undefined;
  const drafts = raw.slice(first).map((m, j) => {
    const tool = m as Extract<RawMessage, { role: "tool" }>;
    const i = first + j;
    return {
      callId: tool.tool_call_id,
      content: textOf(tool.content as MessageContent),
      at: ["messages", i, "tool_call_id"],
      contentAt: ["messages", i, "content"],
    };
  });
  return continuationOf(drafts, ["messages"], OPENAI_REFUSALS);
}

/**
 * The agent a request asks for: the one in `metadata.agent` or the `X-Claude-Agent` header (both
 * may name it, but not two different ones); undefined for the gateway's default. Whether the
 * caller may use it is the policy's decision, made next.
 */
export function chooseAgent(asked: {
  metadata: string | undefined;
  header: string | undefined;
}): string | undefined {
  const header = asked.header?.trim() || undefined;
  if (header !== undefined && !AgentName.safeParse(header).success) {
    throw new InvalidRequestError(
      `The ${AGENT_HEADER} header '${header.slice(0, 64)}' is not an agent name (lowercase letters, digits and '-').`,
      null,
      "invalid_value",
    );
  }
  if (header !== undefined && asked.metadata !== undefined && header !== asked.metadata) {
    throw new InvalidRequestError(
      `metadata.agent '${asked.metadata}' and the ${AGENT_HEADER} header '${header}' name different agents.`,
      "metadata.agent",
      "invalid_value",
    );
  }
  return asked.metadata ?? header;
}

/** OpenAI's `param` spelling: `messages[0].content[1].type`. */
export function paramOf(path: readonly PropertyKey[]): string | null {
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : `${out ? "." : ""}${String(seg)}`;
  return out || null;
}

function invalidRequestFrom(error: z.ZodError): InvalidRequestError {
  // The first problem is the one reported, as OpenAI does; custom refusals are worded for people.
  const issue = error.issues[0];
  if (!issue) return new InvalidRequestError("The request body is not valid.");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return new InvalidRequestError(
      `Unrecognized request argument supplied: ${key}`,
      paramOf([...issue.path, key]),
      "unknown_parameter",
    );
  }
  const param = paramOf(issue.path);
  const code = issue.code === "custom" ? (issue.params as { code?: string } | undefined)?.code : undefined;
  if (code) return new InvalidRequestError(issue.message, param, code);
  return new InvalidRequestError(
    `Invalid value for '${param ?? "body"}': ${issue.message}`,
    param,
    issue.path.length === 0 && issue.code === "invalid_type" ? "invalid_json" : "invalid_value",
  );
}

/**
 * The messages with each image part replaced by a text part that names it (`[image n]`), so the
 * prompt says where each image was; the images in order. Data URLs are decoded (and checked) here.
 */
function withImageMarkers(messages: ChatMessage[]): { messages: ChatMessage[]; images: RequestImage[] } {
  const images: RequestImage[] = [];
  const out = messages.map((m, i): ChatMessage => {
    if (!Array.isArray(m.content) || !m.content.some((p) => p.type === "image_url")) return m;
    const content = m.content.map((part, j) => {
      if (part.type !== "image_url") return part;
      const param = `messages[${i}].content[${j}].image_url.url`;
      const url = (part as unknown as z.infer<typeof ImagePart>).image_url.url;
      images.push({ source: imageSourceOf(url, param), param });
      return { type: "text", text: imageMarker(images.length) };
    });
    return { ...m, content } as ChatMessage;
  });
  checkImageCount(images.length, "messages");
  return { messages: out, images };
}

/** The JSON schema a `response_format` asks for; `json_object` is any object. */
function schemaOf(format: z.infer<typeof ResponseFormat> | null | undefined): JsonSchema | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "object" };
  return checkJsonSchema(
    format.json_schema.schema ?? { type: "object" },
    "response_format.json_schema.schema",
  );
}

/** The text of a message: a string, or its text parts joined by newlines. */
export function textOf(content: MessageContent | null | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.flatMap((p) => (p.type === "text" && typeof p.text === "string" ? [p.text] : [])).join("\n");
}
