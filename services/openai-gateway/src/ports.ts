import type { JobEvent, JobRecord, JobSubmission } from "@claude-gateway/contracts";

/** A job's live events; ends when closed. */
export interface JobEvents extends AsyncIterable<JobEvent> {
  close(): void;
}

/**
 * The executor, as the gateway needs it. Failures are the transport's own errors (the NATS
 * package's named errors); the gateway maps them to what the client is told.
 */
export interface Executor {
  submit(submission: JobSubmission): Promise<JobRecord>;
  get(id: string): Promise<JobRecord>;
  cancel(id: string): Promise<JobRecord>;
  /** Starts listening at once: open it before `submit` so no event is missed. */
  events(id: string): JobEvents;
}
