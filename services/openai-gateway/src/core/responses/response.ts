import type {
  ClientToolDef,
  JobRecord,
  PendingToolCalls,
  TokenUsage,
  ToolCall,
} from "@claude-gateway/contracts";
import { fromFinishedJob, type GatewayError, toClientError } from "../errors.js";
import { type JsonSchema, structuredAnswer } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";
import { functionCallIdOf, messageIdOf, responseIdOf, uuidOfJobClientId } from "./ids.js";
import type { FunctionToolEcho, TextFormat } from "./request.js";

export type { FunctionToolEcho } from "./request.js";

/**
 * The Responses API's `Response` object (the `openai` SDK's `Response`), built from a job. Fields
 * the CLI has no counterpart for carry what is true of the run: the caller's function tools only,
 * no sampling settings applied, no truncation.
 */

export type ResponseStatus = "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete";

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: [];
}

export interface OutputMessage {
  id: string;
  type: "message";
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: OutputText[];
}

/** A call of the caller's tools (the SDK's `ResponseFunctionToolCall`). */
export interface OutputFunctionCall {
  id: string;
  type: "function_call";
  /** The gateway's id for the call (`tools/call-id.ts`): the output the client sends names the job with it. */
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed";
}

export type OutputItem = OutputMessage | OutputFunctionCall;

/** OpenAI's error codes of a failed response; a job's own reason stays in the message. */
export type ResponseErrorCode = "server_error" | "rate_limit_exceeded" | "invalid_prompt";

export interface ResponseUsage {
  /** Everything read as input: fresh, cache read and cache written. */
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  error: { code: ResponseErrorCode; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" } | null;
  instructions: string | null;
  max_output_tokens: null;
  metadata: Record<string, string> | null;
  model: string;
  output: OutputItem[];
  /**
   * The output's text joined. OpenAI sends no such field (its SDKs compute it), but the Node SDK's
   * stream helper does not (openai-node#1662: `finalResponse().output_text` is undefined): sent, it
   * works there too, and SDKs that compute it get the same value.
   */
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  service_tier: "default";
  temperature: null;
  text: { format: TextFormat };
  tool_choice: "none" | "auto";
  tools: FunctionToolEcho[];
  top_p: null;
  truncation: "disabled";
  usage?: ResponseUsage;
}

/** What the request asked for that its response repeats. */
export interface RequestEcho {
  instructions: string | null;
  previousResponseId: string | null;
  format: TextFormat;
  /** Null when not known (a response read back from its job, which does not keep it). */
  metadata: Record<string, string> | null;
  parallelToolCalls: boolean;
  toolChoice: "none" | "auto";
  tools: FunctionToolEcho[];
}

/** Everything of one response that does not come from its job's progress. */
export interface ResponseShape {
  uuid: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model id the client asked for (or the default when it named none). */
  model: string;
  echo: RequestEcho;
}

/** The answer of a finished job: its text, and whether the model was cut off. */
export interface Answer {
  text: string;
  incomplete: boolean;
}

/**
 * The answer of a job that succeeded; throws the client's error for any other. With a schema the
 * answer is the structured output as JSON text, checked against it (never the agent's prose).
 */
export function answerOf(job: JobRecord, schema: JsonSchema | undefined): Answer {
  if (job.status !== "succeeded" || !job.result) throw fromFinishedJob(job);
  const text = schema ? structuredAnswer(job, schema) : job.result.text;
  return { text, incomplete: job.result.stopReason === "max_tokens" };
}

/** The CLI's tokens in the Responses API's terms (as chat completions count them). */
export function responseUsage(usage: TokenUsage | undefined): ResponseUsage {
  const u = usage ?? {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
  };
  const input = u.inputTokens + u.cacheReadInputTokens + u.cacheCreationInputTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadInputTokens },
    output_tokens: u.outputTokens,
    // The CLI reports thinking as output tokens; none are counted apart.
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + u.outputTokens,
  };
}

export function outputMessage(
  uuid: string,
  text: string,
  status: OutputMessage["status"] = "completed",
): OutputMessage {
  return {
    id: messageIdOf(uuid),
    type: "message",
    status,
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

export interface ResponseState {
  status: ResponseStatus;
  output?: OutputItem[];
  completedAt?: number | null;
  error?: ResponseObject["error"];
  incomplete?: boolean;
  usage?: ResponseUsage;
}

export function responseObject(shape: ResponseShape, state: ResponseState): ResponseObject {
  const { echo } = shape;
  return {
    id: responseIdOf(shape.uuid),
    object: "response",
    created_at: shape.createdAt,
    status: state.status,
    background: false,
    completed_at: state.completedAt ?? null,
    error: state.error ?? null,
    incomplete_details: state.incomplete ? { reason: "max_output_tokens" } : null,
    instructions: echo.instructions,
    max_output_tokens: null,
    metadata: echo.metadata,
    model: shape.model,
    output: state.output ?? [],
    output_text: (state.output ?? [])
      .flatMap((item) => (item.type === "message" ? item.content.map((c) => c.text) : []))
      .join(""),
    parallel_tool_calls: echo.parallelToolCalls,
    previous_response_id: echo.previousResponseId,
    reasoning: { effort: null, summary: null },
    service_tier: "default",
    temperature: null,
    text: { format: echo.format },
    tool_choice: echo.toolChoice,
    tools: echo.tools,
    top_p: null,
    truncation: "disabled",
    ...(state.usage ? { usage: state.usage } : {}),
  };
}

/** The response of a finished job (non-streaming); throws the client's error for a failed one. */
export function completedResponse(
  shape: ResponseShape,
  job: JobRecord,
  schema: JsonSchema | undefined,
): ResponseObject {
  return answeredResponse(shape, job, answerOf(job, schema));
}

/** The response of a job that answered `answer` (a stream's: all the text it streamed). */
export function answeredResponse(shape: ResponseShape, job: JobRecord, answer: Answer): ResponseObject {
  const status = answer.incomplete ? "incomplete" : "completed";
  return responseObject(shape, {
    status,
    output: [outputMessage(shape.uuid, answer.text, status)],
    completedAt: Math.max(shape.createdAt, secondsOf(job.finishedAt) ?? 0),
    incomplete: answer.incomplete,
    usage: responseUsage(job.usage),
  });
}

/** One call of a paused job as an output item, with the gateway's id for it. */
export function functionCallItem(
  jobId: string,
  call: ToolCall,
  status: OutputFunctionCall["status"] = "completed",
): OutputFunctionCall {
  return {
    id: functionCallIdOf(call.id),
    type: "function_call",
    call_id: clientCallId(jobId, call.id),
    name: call.name,
    arguments: JSON.stringify(call.input),
    status,
  };
}

/**
 * The response of a job that paused on calls of the caller's tools: completed, its output the text
 * of the message that made them (if any) and one `function_call` item per call. The request that
 * brings their outputs continues the same job.
 */
export function pausedResponse(
  shape: ResponseShape,
  jobId: string,
  pending: Pick<PendingToolCalls, "calls" | "text" | "at">,
): ResponseObject {
  return responseObject(shape, {
    status: "completed",
    output: [
      ...(pending.text !== "" ? [outputMessage(shape.uuid, pending.text)] : []),
      ...pending.calls.map((call) => functionCallItem(jobId, call)),
    ],
    completedAt: Math.max(shape.createdAt, secondsOf(pending.at) ?? 0),
    // The job goes on: its spend is known, and reported, in the response it ends in.
    usage: responseUsage(undefined),
  });
}

/** The caller's tools of a job as its response echoes them. */
export function toolsEchoOf(tools: readonly ClientToolDef[] | undefined): FunctionToolEcho[] {
  return (tools ?? []).map((tool) => ({
    type: "function",
    name: tool.name,
    description: tool.description ?? null,
    parameters: tool.inputSchema,
    strict: false,
  }));
}

/** A response that failed after it began (streaming): what was said so far, and why it stopped. */
export function failedResponse(
  shape: ResponseShape,
  err: GatewayError,
  partial: OutputMessage | undefined,
): ResponseObject {
  return responseObject(shape, {
    status: "failed",
    output: partial ? [partial] : [],
    error: responseErrorOf(err),
  });
}

export function responseErrorOf(err: GatewayError): { code: ResponseErrorCode; message: string } {
  const code: ResponseErrorCode =
    err.status === 429
      ? "rate_limit_exceeded"
      : err.status === 400 || err.status === 413
        ? "invalid_prompt"
        : "server_error";
  return { code, message: err.message };
}

/**
 * A response read back from its job (`GET /v1/responses/{id}`), in whatever state the job is. The
 * job keeps the prompt, not the request: `instructions`, `metadata` and `previous_response_id` are
 * null, and a schema's format is named `response` (its name is not kept either; a job whose schema
 * is just `{"type": "object"}` was JSON mode, `json_object`).
 */
export function storedResponse(job: JobRecord): ResponseObject {
  const uuid = uuidOfJobClientId(job.clientId);
  if (!uuid) throw new Error(`job ${job.id} is not a response's`);
  const schema = job.submission.jsonSchema;
  const shape: ResponseShape = {
    uuid,
    createdAt: secondsOf(job.queuedAt) ?? 0,
    model: job.model,
    echo: {
      instructions: null,
      previousResponseId: null,
      format: formatOfSchema(schema),
      metadata: null,
      parallelToolCalls: true,
      toolChoice: "auto",
      tools: toolsEchoOf(job.submission.tools),
    },
  };
  switch (job.status) {
    case "queued":
      return responseObject(shape, { status: "queued" });
    case "running":
      // Paused on the caller's calls: what the request that made them was answered.
      return job.toolCalls
        ? pausedResponse(shape, job.id, job.toolCalls)
        : responseObject(shape, { status: "in_progress" });
    case "cancelled":
      return responseObject(shape, { status: "cancelled", ...usageOf(job) });
    case "succeeded":
      try {
        return completedResponse(shape, job, schema);
      } catch (err) {
        return failedOf(shape, job, err);
      }
    default:
      return failedOf(shape, job, fromFinishedJob(job));
  }
}

/** JSON mode runs with the loosest schema, one object: such a job was a `json_object` response. */
function formatOfSchema(schema: JsonSchema | undefined): TextFormat {
  if (!schema) return { type: "text" };
  if (JSON.stringify(schema) === JSON.stringify({ type: "object" })) return { type: "json_object" };
  return { type: "json_schema", name: "response", schema };
}

function failedOf(shape: ResponseShape, job: JobRecord, err: unknown): ResponseObject {
  const known = toClientError(err);
  if (!known) throw err;
  return responseObject(shape, { status: "failed", error: responseErrorOf(known), ...usageOf(job) });
}

function usageOf(job: JobRecord): { usage?: ResponseUsage } {
  return job.usage ? { usage: responseUsage(job.usage) } : {};
}

function secondsOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
