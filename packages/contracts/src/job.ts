import { createHash } from "node:crypto";
import { z } from "zod";
import { PrincipalId } from "./principal.js";
import { SUBJECT_TOKEN } from "./subjects.js";
import { ClientTools, MAX_TOOL_RESULTS, PendingToolCalls, ToolResult } from "./tools.js";

export const JobId = z.string().regex(SUBJECT_TOKEN, "letters, digits, '_' and '-' only, at most 128");

/** The namespace of job ids derived from a caller's own id (a fixed, random UUID). */
const JOB_ID_NAMESPACE = "8d3c6f0e-2b4a-4f7e-9c1d-5a6b7c8d9e0f";

/**
 * The job id of a caller's own id: a name-based UUID (v5) of the caller and its id, so the same
 * caller and id are always the same job (idempotent submits) and two callers' same id are two
 * jobs. A service that submits on a caller's behalf computes it to subscribe to the job's events
 * before submitting. Jobs without a client id get a random UUID.
 */
export function jobIdFor(caller: string, clientId: string): string {
  const ns = Buffer.from(JOB_ID_NAMESPACE.replaceAll("-", ""), "hex");
  const hash = createHash("sha1").update(ns).update(`${caller}\u0000${clientId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const Uuid = z.string().uuid();

export const JobSession = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("new") }).strict(),
  z
    .object({
      kind: z.literal("resume"),
      id: Uuid,
      /**
       * Continue from the session's history into a new session (`--fork-session`): the resumed one
       * stays as it was, so each point of a conversation can be continued more than once (the
       * Responses API's `previous_response_id`). The job's result names the new session.
       */
      fork: z.boolean().optional(),
    })
    .strict(),
]);
export type JobSession = z.infer<typeof JobSession>;

export const MAX_PROMPT_CHARS = 1_000_000;

/**
 * Text too large for the bus (a prompt or a reply of megabytes) lives in the job payload store
 * (`agent_job_payloads`, an object store with the jobs' TTL); a record names it. The record keeps the
 * text's first `PAYLOAD_PREVIEW_CHARS` characters where the text would be.
 */
export const PayloadRef = z
  .object({
    /** The object's name in the payload store (see `payloadObjects`). */
    object: z.string().min(1).max(512),
    /** The text's size in UTF-8 bytes. */
    bytes: z.number().int().nonnegative(),
  })
  .strict();
export type PayloadRef = z.infer<typeof PayloadRef>;

export const PAYLOAD_PREVIEW_CHARS = 1000;

/** The names of a job's objects in the payload store. */
export const payloadObjects = {
  prompt: (jobId: string) => `jobs/${jobId}/prompt`,
  result: (jobId: string) => `jobs/${jobId}/result`,
  /** A prompt the gateway stored before admitting its job (the job's id is not known yet). */
  incoming: (caller: string, uuid: string) => `incoming/${caller}/${uuid}`,
  incomingPrefix: (caller: string) => `incoming/${caller}/`,
};

/** The first characters of a text (never splitting a surrogate pair), for a record that refers to it. */
export function previewOf(text: string, chars = PAYLOAD_PREVIEW_CHARS): string {
  if (text.length <= chars) return text;
  const code = text.charCodeAt(chars - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? chars - 1 : chars);
}
export const MAX_TIMEOUT_SECONDS = 6 * 60 * 60;

/** The image types the Messages API takes. */
export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export const ImageMediaType = z.enum(IMAGE_MEDIA_TYPES);
export type ImageMediaType = z.infer<typeof ImageMediaType>;
/** Images of one job, at most (the Messages API takes more; a job's request stays bounded). */
export const MAX_JOB_IMAGES = 20;
/** One image's decoded size, at most: the Messages API's own limit per image. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** How many bytes a padded base64 text decodes to, without decoding it (limits are in bytes). */
export function base64DecodedBytes(b64: string): number {
  const pad = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - pad;
}
/** A JSON schema for structured output, serialized, at most. */
export const MAX_JSON_SCHEMA_BYTES = 64 * 1024;

/**
 * An image the agent sees before the prompt's text, in the user's turn. Either inline (`data`,
 * base64) or, when the job would be too large for the bus, stored in the payload store (`ref`, its
 * base64 text; like `promptRef`, only the gateway sets it, under `incoming/<caller>/`).
 */
export const JobImage = z
  .object({
    mediaType: ImageMediaType,
    data: z
      .string()
      .min(1)
      .max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, "base64")
      .optional(),
    ref: PayloadRef.optional(),
  })
  .strict()
  .refine((i) => (i.data === undefined) !== (i.ref === undefined), {
    message: "an image has either data or ref",
  });
export type JobImage = z.infer<typeof JobImage>;

/** A JSON schema object (draft 2020-12 as the CLI's `--json-schema` takes it), size-capped. */
export const JobJsonSchema = z
  .record(z.string(), z.unknown())
  .refine((s) => JSON.stringify(s).length <= MAX_JSON_SCHEMA_BYTES, {
    message: `a JSON schema of at most ${MAX_JSON_SCHEMA_BYTES} bytes`,
  });

/** What a caller submits. Unknown fields are refused: a typo must not be silently ignored. */
export const JobSubmission = z
  .object({
    /**
     * A client-chosen id makes submission idempotent: the same id from the same caller is the same
     * job. It is scoped per caller (another caller's id never matches) and kept as `clientId`; the
     * job's own id is minted by the executor.
     */
    id: JobId.optional(),
    agent: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "an agent name"),
    prompt: z.string().min(1).max(MAX_PROMPT_CHARS),
    model: z.string().min(1).max(100).optional(),
    repo: z.string().min(1).max(2048).optional(),
    ref: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^-\s][^\s]*$/, "a branch, tag or commit")
      .optional(),
    timeoutSeconds: z.number().int().positive().max(MAX_TIMEOUT_SECONDS).optional(),
    budgetUsd: z.number().positive().max(1000).optional(),
    session: JobSession.optional(),
    /**
     * Over NATS the caller is the request subject's last token (`agent.v1.jobs.submit.<principal>`),
     * which the server's permissions enforce; a payload may repeat it, and one naming anyone else
     * is refused. Over HTTP it is refused: the executor takes it from the credentials.
     */
    caller: PrincipalId.optional(),
    /**
     * The whole prompt, stored in the payload store because it is larger than the bus carries;
     * `prompt` then holds its beginning. Only the gateway sets it (on the admit subject), naming an
     * object under `incoming/<caller>/`; a caller's own submission with it is refused.
     */
    promptRef: PayloadRef.optional(),
    /** Images the agent sees with the prompt, in order, before its text. */
    images: z.array(JobImage).min(1).max(MAX_JOB_IMAGES).optional(),
    /**
     * Structured output (`--json-schema`): the agent's answer is an object valid against this
     * schema, in `result.structuredOutput` (and as JSON text in `result.text`). A run that ends
     * without one fails `structured_output_missing`; a schema the CLI refuses fails `invalid_request`.
     */
    jsonSchema: JobJsonSchema.optional(),
    /**
     * Tools the caller runs itself (client tool calling): the model sees these and nothing else —
     * only an agent without tools of its own takes them. When the model calls them the job pauses
     * (`toolCalls`, a `tool_calls` event) until the caller's results arrive (`ToolResults`).
     */
    tools: ClientTools.optional(),
  })
  .strict()
  .refine((j) => j.ref === undefined || j.repo !== undefined, { message: "ref needs repo", path: ["ref"] })
  .refine((j) => j.tools === undefined || j.jsonSchema === undefined, {
    message: "a job has either tools or a JSON schema",
    path: ["tools"],
  });
export type JobSubmission = z.infer<typeof JobSubmission>;

export const JobStatus = z.enum(["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "timed_out", "cancelled"];
export const isTerminal = (s: JobStatus) => TERMINAL_STATUSES.includes(s);

/** Why a job did not succeed. Mirrors the claude package's error codes plus the executor's own. */
export const JobFailureReason = z.enum([
  "timeout",
  "cancelled",
  "executor_lost",
  "executor_stopped",
  "result_too_large",
  "payload_unavailable",
  "claude_not_authenticated",
  "claude_not_installed",
  "upstream_error",
  "budget_exceeded",
  "max_turns",
  "session_not_found",
  /** The CLI refused the request before any API call (e.g. a JSON schema it cannot use). */
  "invalid_request",
  /** The prompt (with the session's history) is longer than the model's context window. */
  "prompt_too_long",
  /** `jsonSchema` was given and the run ended without a valid structured output. */
  "structured_output_missing",
  /** The model called the caller's tools and their results did not arrive in time. */
  "tool_results_expired",
  "execution_error",
  "crashed",
  "workspace_error",
  "internal",
]);
export type JobFailureReason = z.infer<typeof JobFailureReason>;

export const TokenUsage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadInputTokens: z.number().int().nonnegative(),
  cacheCreationInputTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export const JobResult = z.object({
  text: z.string(),
  sessionId: z.string(),
  numTurns: z.number().int().nonnegative(),
  permissionDenials: z.number().int().nonnegative(),
  /** The whole reply, when it is too large for the record: `text` then holds its beginning. */
  textRef: PayloadRef.optional(),
  /** The parsed object of a job with `jsonSchema` (the CLI's `structured_output`). */
  structuredOutput: z.unknown().optional(),
  /** Why the model's last API message ended (`end_turn`, `max_tokens`, `stop_sequence`, `tool_use`…). */
  stopReason: z.string().optional(),
});

export const JobRecord = z.object({
  /** Minted by the executor (a UUID). */
  id: JobId,
  /** The id the client chose, if any (unique per caller). */
  clientId: JobId.optional(),
  status: JobStatus,
  agent: z.string(),
  model: z.string(),
  /** The principal that owns the job: only it (and admins) may read, list or cancel it. */
  caller: z.string(),
  submission: JobSubmission,
  /** The whole prompt, when it is too large for the record: `submission.prompt` holds its beginning. */
  promptRef: PayloadRef.optional(),
  queuedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** From queued to started: waiting for a free slot. */
  queueWaitMs: z.number().nonnegative().optional(),
  /** From started to finished: execution only. */
  runMs: z.number().nonnegative().optional(),
  result: JobResult.optional(),
  error: z.object({ reason: JobFailureReason, message: z.string() }).optional(),
  /** Cost and tokens of the run (also on failure, when the CLI reported them). */
  costUsd: z.number().nonnegative().optional(),
  usage: TokenUsage.optional(),
  /** The replica that ran (or runs) it. */
  executor: z.string().optional(),
  /** Deliveries by the queue (more than 1 after a replica was lost). */
  attempts: z.number().int().nonnegative(),
  /** The caller-policy in-flight lease this job holds (released when it ends). */
  lease: z.string().optional(),
  /**
   * Names the one queue message that may run the job (a new one after a hand-back or a
   * re-enqueue): any other message for it is stale and dropped. Absent in records written before.
   */
  queueToken: z.string().optional(),
  /** When the queue confirmed the message of `queueToken`; absent until then. */
  enqueuedAt: z.string().optional(),
  /** When a replica shutting down last handed the job back to the queue. */
  requeuedAt: z.string().optional(),
  /**
   * A cancel asked for while the job ran. The replica running it also gets a broadcast (at once);
   * this is what it finds on its next heartbeat should the broadcast have been lost.
   */
  cancelRequested: z.object({ at: z.string(), reason: z.string() }).optional(),
  /** The model's calls of the caller's tools that wait for results (the job is `running`). */
  toolCalls: PendingToolCalls.optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** What submit answers: the job as accepted (or as it already was, for a repeated id). */
export const SubmitReply = z.object({ job: JobRecord, duplicate: z.boolean() });
export type SubmitReply = z.infer<typeof SubmitReply>;

/**
 * A job asked for by its id (or the caller's own `clientId`) over NATS, on behalf of the caller the
 * subject names (`agent.v1.jobs.get.<principal>`); `caller`, if given, must be the same. Another
 * caller's job is "not found" (admins see every job).
 */
export const JobRef = z.object({ id: JobId, caller: PrincipalId.optional() }).strict();
export type JobRef = z.infer<typeof JobRef>;

/** One page of a caller's jobs, newest first. */
export const JobList = z.object({ jobs: z.array(JobRecord), next: z.string().optional() });
export type JobList = z.infer<typeof JobList>;

export const JobReply = z.object({ job: JobRecord });

/**
 * The caller's results for a job paused on tool calls (`agent.v1.jobs.tools.<principal>`): one for
 * every pending call, each once. Anything else is refused and the job keeps waiting.
 */
export const ToolResults = z
  .object({
    id: JobId,
    caller: PrincipalId.optional(),
    results: z.array(ToolResult).min(1).max(MAX_TOOL_RESULTS),
  })
  .strict();
export type ToolResults = z.infer<typeof ToolResults>;

/** Results taken: the job goes on; its events after `afterSeq` are the model's answer to them. */
export const ToolResultsReply = z.object({ afterSeq: z.number().int().nonnegative() });
export type ToolResultsReply = z.infer<typeof ToolResultsReply>;
export type JobReply = z.infer<typeof JobReply>;

/** The queue message: the job and its owner (the record's key); the record in KV is the truth. */
/** A job's queue message; `token` must be its record's `queueToken` for the job to run. */
export const QueueMessage = z.object({ id: JobId, caller: z.string(), token: z.string().optional() });
export type QueueMessage = z.infer<typeof QueueMessage>;

export const CancelBroadcast = z.object({ id: JobId, reason: z.string().optional() });
export type CancelBroadcast = z.infer<typeof CancelBroadcast>;
