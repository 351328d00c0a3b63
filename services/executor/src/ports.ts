import type { ClaudeRun, RunOptions } from "@claude-gateway/claude";
import type { JobEvent, JobRecord } from "@claude-gateway/contracts";

/** Job records, shared by every replica (NATS KV in production). */
export interface JobStore {
  get(id: string): Promise<JobRecord | null>;
  /** Writes the record only if the id is new; otherwise returns the existing one. */
  create(record: JobRecord): Promise<{ created: boolean; record: JobRecord }>;
  /** Optimistic read-change-write; `fn` may run more than once and may throw to abort. */
  update(id: string, fn: (current: JobRecord) => JobRecord): Promise<JobRecord>;
  delete(id: string): Promise<void>;
}

export interface QueueStats {
  /** Accepted, not yet picked up by any replica. */
  queued: number;
}

/** The durable FIFO (a JetStream work-queue stream in production). */
export interface JobQueue {
  enqueue(id: string): Promise<void>;
  stats(): Promise<QueueStats>;
}

/** One job handed to this replica by the queue. */
export interface Delivery {
  id: string;
  /** 1 on first delivery; more after a replica was lost or a job was handed back. */
  deliveryCount: number;
  /** Keeps the message ours while the job runs. */
  working(): void;
  ack(): Promise<void>;
  /** Give the job back to the queue now (shutdown). */
  nak(): void;
}

export interface QueueConsumer {
  /** The next job, or null when none arrived within the wait. */
  next(waitMs: number): Promise<Delivery | null>;
}

export interface EventPublisher {
  publish(event: JobEvent): void;
}

/** Tells every replica to stop a job; the one running it does. */
export interface CancelBus {
  broadcast(id: string, reason: string): Promise<void>;
}

export interface Workspace {
  dir: string;
  release(): Promise<void>;
}

export interface Workspaces {
  prepare(job: { jobId: string; repo?: string; ref?: string }): Promise<Workspace>;
}

/** Session transcripts kept off the pod, so `--resume` works on any replica. */
export type { TranscriptStore } from "@claude-gateway/claude";

export type ClaudeRunner = (opts: RunOptions) => ClaudeRun;

export interface Clock {
  now(): Date;
}

/** Runs one job to its end; the worker injects it and aborts `signal` to cancel or hand back. */
export type RunJob = (job: JobRecord, signal: AbortSignal) => Promise<void>;

/** The abort reason that tells a job runner to hand its job back to the queue, not cancel it. */
export const HAND_BACK = "executor shutting down: job handed back to the queue";
