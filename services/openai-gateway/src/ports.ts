import type {
  JobEvent,
  JobRecord,
  JobSubmission,
  ToolResult,
  ToolResultsReply,
} from "@claude-gateway/contracts";

/** A job's live events; ends when closed. */
export interface JobEvents extends AsyncIterable<JobEvent> {
  close(): void;
}

/**
 * The executor, as the gateway needs it. Failures are the transport's own errors (the NATS
 * package's named errors); the gateway maps them to what the client is told.
 */
/** A job of a caller the gateway authenticated. */
export interface CallerJobRef {
  id: string;
  caller: string;
}

export interface Executor {
  /**
   * Submits a job for `submission.caller`, admitted: the gateway has checked and counted it against
   * the caller's policy. The executor mints its id: `jobIdFor(caller, id)` for a submission that
   * names its own `id`, so the submitter knows it before submitting.
   */
  submit(submission: JobSubmission & { caller: string }): Promise<JobRecord>;
  /** The job as `ref.caller` may see it: another caller's job is not found. */
  get(ref: CallerJobRef): Promise<JobRecord>;
  cancel(ref: CallerJobRef): Promise<JobRecord>;
  /**
   * The caller's results for its job paused on tool calls: the job goes on; its events after
   * `afterSeq` are the model's answer. Refused (the executor's 400/404/409) when they are not
   * exactly the pending calls of a job of this caller.
   */
  supplyToolResults(ref: CallerJobRef, results: ToolResult[]): Promise<ToolResultsReply>;
  /** Starts listening at once: open it before `submit` so no event is missed. */
  events(caller: string, jobId: string): JobEvents;
}
