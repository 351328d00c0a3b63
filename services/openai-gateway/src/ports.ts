import type { JobEvent, JobRecord, JobRef, JobSubmission } from "@claude-gateway/contracts";

/** A job's live events; ends when closed. */
export interface JobEvents extends AsyncIterable<JobEvent> {
  close(): void;
}

/**
 * The executor, as the gateway needs it. Failures are the transport's own errors (the NATS
 * package's named errors); the gateway maps them to what the client is told.
 */
export interface Executor {
  /**
   * Submits a job for `submission.caller`. The executor mints its id: `jobIdFor(caller, id)` for a
   * submission that names its own `id`, so the submitter knows it before submitting.
   */
  submit(submission: JobSubmission): Promise<JobRecord>;
  /** The job as `ref.caller` may see it: another caller's job is not found. */
  get(ref: JobRef): Promise<JobRecord>;
  cancel(ref: JobRef): Promise<JobRecord>;
  /** Starts listening at once: open it before `submit` so no event is missed. */
  events(jobId: string): JobEvents;
}
