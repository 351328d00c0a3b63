import { MAX_TOOL_RESULT_CHARS, MAX_TOOL_RESULTS, type ToolResult } from "@claude-gateway/contracts";
import { parseClientCallId } from "./call-id.js";
import type { Path, ToolRefusals } from "./definitions.js";

/**
 * The results a request ends with (client tool calling): they answer the calls a paused job made,
 * and the calls' ids (`call-id.ts`) name that job. Whether they answer exactly its pending calls
 * is the executor's to check, which knows them.
 */

/** One result as the request has it: the call id the client was given, and where it is. */
export interface ResultDraft {
  callId: string;
  content: string;
  isError?: boolean | undefined;
  /** The call id's field. */
  at: Path;
  /** The content's field. */
  contentAt: Path;
}

/** What a continuation sends to the paused job (`PreparedRequest.toolResults`). */
export interface ContinuationResults {
  jobId: string;
  results: ToolResult[];
  /** The request's field that holds the results, for errors. */
  param: string;
}

/**
 * The job the results go to and the results by the API's call ids; throws the API's 400 for an id
 * the gateway did not give, for results of two different jobs, and for too many or too long.
 */
export function continuationOf(
  drafts: readonly ResultDraft[],
  listPath: Path,
  api: ToolRefusals,
): ContinuationResults {
  if (drafts.length > MAX_TOOL_RESULTS) {
    throw api.error(
      listPath,
      `${drafts.length} tool results are given; at most ${MAX_TOOL_RESULTS} are supported.`,
      "invalid_value",
    );
  }
  let job: { jobId: string; callId: string } | undefined;
  const results = drafts.map((draft): ToolResult => {
    const ids = parseClientCallId(draft.callId);
    if (!ids) {
      throw api.error(
        draft.at,
        `'${draft.callId.slice(0, 300)}' is not a tool call this gateway made: results are taken only ` +
          "for its own calls, by the ids it gave them.",
        "invalid_tool_call_id",
      );
    }
    job ??= { jobId: ids.jobId, callId: draft.callId };
    if (ids.jobId !== job.jobId) {
      throw api.error(
        draft.at,
        `'${draft.callId}' and '${job.callId}' are calls of different responses: the results of one ` +
          "response's calls are sent together, in one request.",
        "invalid_value",
      );
    }
    if (draft.content.length > MAX_TOOL_RESULT_CHARS) {
      throw api.error(
        draft.contentAt,
        `the result is ${draft.content.length} characters; at most ${MAX_TOOL_RESULT_CHARS} are supported.`,
        "invalid_value",
      );
    }
    return { id: ids.apiId, content: draft.content, ...(draft.isError ? { isError: true } : {}) };
  });
  if (!job) throw new Error("a continuation has at least one result");
  return { jobId: job.jobId, results, param: api.param(listPath) };
}
