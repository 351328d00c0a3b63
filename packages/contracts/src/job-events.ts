import { z } from "zod";
import { JobFailureReason, JobStatus, TokenUsage } from "./job.js";
import { ToolCall } from "./tools.js";

/**
 * The small vocabulary of live job events on `agent.v1.jobs.<id>.events`, translated from the
 * CLI's stream-json. `seq` numbers events per job so a consumer can detect a gap.
 */
const base = { jobId: z.string(), seq: z.number().int().nonnegative(), at: z.string() };

export const JobEvent = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("status"), status: JobStatus }),
  /** A piece of the agent's visible answer, as it is generated. */
  z.object({ ...base, type: z.literal("text"), delta: z.string() }),
  z.object({
    ...base,
    type: z.literal("tool_use"),
    toolUseId: z.string(),
    name: z.string(),
    input: z.unknown(),
  }),
  z.object({
    ...base,
    type: z.literal("tool_result"),
    toolUseId: z.string(),
    isError: z.boolean(),
    /** Clipped to a few KiB. */
    content: z.string(),
  }),
  /**
   * The model called the caller's tools (client tool calling): the job waits for their results
   * until `expiresAt`. `text` is the text of the message that made the calls.
   */
  z.object({
    ...base,
    type: z.literal("tool_calls"),
    calls: z.array(ToolCall).min(1),
    text: z.string(),
    expiresAt: z.string(),
  }),
  z.object({
    ...base,
    type: z.literal("result"),
    text: z.string(),
    sessionId: z.string(),
    costUsd: z.number(),
    usage: TokenUsage,
  }),
  z.object({ ...base, type: z.literal("error"), reason: JobFailureReason, message: z.string() }),
]);
export type JobEvent = z.infer<typeof JobEvent>;
export type JobEventType = JobEvent["type"];
