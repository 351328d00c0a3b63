import { z } from "zod";

/**
 * Client tool calling: tools a caller defines and runs itself. The model sees them (and nothing
 * else) while the job's CLI process is kept; when the model calls them the job pauses, reports the
 * calls (a `tool_calls` event, the record's `toolCalls`) and goes on once the caller's results
 * arrive (`ToolResults`), or fails `tool_results_expired`.
 */

/**
 * The CLI offers a caller's tool as `mcp__client__<name>` and neither shortens nor keeps other
 * characters (it writes `_`): the API's 64-character limit leaves 51, letters, digits, `_`, `-`.
 */
export const MAX_CLIENT_TOOL_NAME = 51;
export const CLIENT_TOOL_NAME = /^[A-Za-z0-9_-]{1,51}$/;
/** Tools one job may offer, at most. */
export const MAX_CLIENT_TOOLS = 128;
export const MAX_CLIENT_TOOL_DESCRIPTION = 16 * 1024;
/** One tool's input schema, serialized, at most. */
export const MAX_CLIENT_TOOL_SCHEMA_BYTES = 64 * 1024;
/** One result's text, at most (the whole request must also fit the bus). */
export const MAX_TOOL_RESULT_CHARS = 200_000;
/** Results one request may carry: as many calls as one message may make. */
export const MAX_TOOL_RESULTS = 64;

export const ClientToolName = z
  .string()
  .regex(CLIENT_TOOL_NAME, `letters, digits, '_' and '-' only, at most ${MAX_CLIENT_TOOL_NAME} characters`);

/** A tool the caller offers: its name, what it does, a JSON schema of its arguments (an object). */
export const ClientToolDef = z
  .object({
    name: ClientToolName,
    description: z.string().max(MAX_CLIENT_TOOL_DESCRIPTION).optional(),
    inputSchema: z
      .record(z.string(), z.unknown())
      .refine((s) => JSON.stringify(s).length <= MAX_CLIENT_TOOL_SCHEMA_BYTES, {
        message: `an input schema of at most ${MAX_CLIENT_TOOL_SCHEMA_BYTES} bytes`,
      })
      .refine((s) => s.type === undefined || s.type === "object", {
        message: "an input schema describes an object (type 'object')",
      }),
  })
  .strict();
export type ClientToolDef = z.infer<typeof ClientToolDef>;

/** The tools of one job: names unique. */
export const ClientTools = z
  .array(ClientToolDef)
  .min(1)
  .max(MAX_CLIENT_TOOLS)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    tools.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `'${t.name}' twice` });
      seen.add(t.name);
    });
  });

/** A call the model made: the API's tool_use id, the caller's tool name, the arguments. */
export const ToolCall = z
  .object({
    id: z.string().min(1).max(256),
    name: z.string(),
    input: z.record(z.string(), z.unknown()),
  })
  .strict();
export type ToolCall = z.infer<typeof ToolCall>;

/**
 * A job paused on the model's calls: every call of the message, the message's text before them,
 * the `seq` of the `tool_calls` event (the job's events after it answer the results), and when the
 * calls expire (the job then fails `tool_results_expired`).
 */
export const PendingToolCalls = z.object({
  calls: z.array(ToolCall).min(1),
  text: z.string(),
  seq: z.number().int().nonnegative(),
  at: z.string(),
  expiresAt: z.string(),
});
export type PendingToolCalls = z.infer<typeof PendingToolCalls>;

/** The caller's answer to one call. */
export const ToolResult = z
  .object({
    /** The call's id (`ToolCall.id`). */
    id: z.string().min(1).max(256),
    content: z.string().max(MAX_TOOL_RESULT_CHARS),
    /** The tool failed: the model sees the content as its error. */
    isError: z.boolean().optional(),
  })
  .strict();
export type ToolResult = z.infer<typeof ToolResult>;
