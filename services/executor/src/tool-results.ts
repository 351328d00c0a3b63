import {
  isTerminal,
  type JobRecord,
  type ToolResult,
  type ToolResults,
  type ToolResultsReply,
} from "@claude-gateway/contracts";
import { ServiceUnavailableError } from "@claude-gateway/nats";
import { ServiceError } from "@claude-gateway/service-kit";
import { JobFinishedError, UnavailableError } from "./errors.js";

/**
 * Client tool calling across replicas: a job paused on the model's calls of the caller's tools
 * keeps its CLI process on the replica that runs it (a hold). Results may arrive at any replica
 * (the executor's endpoints are one queue group): the one that takes them answers the hold if it
 * is its own, else forwards them to the replica the job's record names.
 */

/** A job of this replica waiting for the caller's results. */
export interface ToolHold {
  /** The job's owner: only its results are taken. */
  readonly caller: string;
  /** Answers the pending calls (400 naming what does not match them); the job goes on. */
  supply(results: readonly ToolResult[]): Promise<ToolResultsReply>;
}

/** This replica's held jobs. */
export interface ToolHolds {
  /** Registers a job's hold; the returned function removes it (idempotent). */
  hold(jobId: string, hold: ToolHold): () => void;
  get(jobId: string): ToolHold | undefined;
  readonly size: number;
}

export function createToolHolds(): ToolHolds {
  const held = new Map<string, ToolHold>();
  return {
    hold(jobId, hold) {
      held.set(jobId, hold);
      return () => {
        if (held.get(jobId) === hold) held.delete(jobId);
      };
    },
    get: (jobId) => held.get(jobId),
    get size() {
      return held.size;
    },
  };
}

/** The job waits for no results (it never paused, or it already went on). */
export class NotWaitingForToolResultsError extends ServiceError {
  override name = "NotWaitingForToolResultsError";
  constructor(jobId: string, status: string) {
    super(
      409,
      "not_waiting_for_tool_results",
      `job ${jobId} is ${status} and waits for no tool results (its calls were answered already, or it made none)`,
    );
  }
}

export interface ToolResultsRouting {
  holds: ToolHolds;
  executorId: string;
  /** Sends results to the replica that holds the job (`subjects.jobs.toolsAt`). */
  forward(executorId: string, request: ToolResults & { caller: string }): Promise<ToolResultsReply>;
}

/**
 * Results for `job` (already found for the requester: another caller's job was not found). A job
 * that ended answers 409 `job_finished` (saying when its calls expired), one that is not paused
 * 409 `not_waiting_for_tool_results`, a holder that is gone 503.
 */
export async function supplyToolResults(
  routing: ToolResultsRouting,
  job: JobRecord,
  results: readonly ToolResult[],
): Promise<ToolResultsReply> {
  const local = routing.holds.get(job.id);
  if (local && local.caller === job.caller) return local.supply(results);
  if (isTerminal(job.status)) {
    if (job.error?.reason === "tool_results_expired") {
      throw new ServiceError(409, "tool_calls_expired", `job ${job.id}: ${job.error.message}`);
    }
    throw new JobFinishedError(job.id, job.status);
  }
  if (!job.toolCalls || job.executor === undefined || job.executor === routing.executorId) {
    throw new NotWaitingForToolResultsError(job.id, job.status);
  }
  try {
    return await routing.forward(job.executor, { id: job.id, caller: job.caller, results: [...results] });
  } catch (err) {
    if (err instanceof ServiceUnavailableError) {
      throw new UnavailableError(
        "tool_calls_holder_gone",
        `the executor replica holding job ${job.id} (${job.executor}) is gone; the job ends executor_lost`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** Results forwarded from another replica: only a hold of this replica answers them. */
export function supplyHeldToolResults(
  holds: ToolHolds,
  request: ToolResults & { caller: string },
): Promise<ToolResultsReply> {
  const hold = holds.get(request.id);
  if (!hold || hold.caller !== request.caller) {
    return Promise.reject(new NotWaitingForToolResultsError(request.id, "no longer paused"));
  }
  return hold.supply(request.results);
}
