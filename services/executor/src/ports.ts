import type { ClaudeRun, RunOptions } from "@claude-gateway/claude";
import type { JobEvent, JobRecord } from "@claude-gateway/contracts";
import type { JobSandbox } from "./sandbox/sandbox.js";

export type { JobSandbox };

/**
 * Job records, shared by every replica (NATS KV in production), each under its owner: a record is
 * found by its owner and id, so another caller's job is simply not there.
 */
export interface JobStore {
  get(caller: string, id: string): Promise<JobRecord | null>;
  /** A job of any caller (admins; the rare path that knows no owner). */
  find(id: string): Promise<JobRecord | null>;
  /** Writes the record if its id is new for its owner; otherwise returns the existing one. */
  create(record: JobRecord): Promise<{ created: boolean; record: JobRecord }>;
  /** Optimistic read-change-write; `fn` may run more than once and may throw to abort. */
  update(caller: string, id: string, fn: (current: JobRecord) => JobRecord): Promise<JobRecord>;
  delete(caller: string, id: string): Promise<void>;
  /** Every record of one caller, or of every caller (in no particular order). */
  list(caller: string | undefined): Promise<JobRecord[]>;
  /** Remembers that a caller's job recorded this CLI session (only its owner may resume it). */
  addSession(caller: string, sessionId: string): Promise<void>;
  hasSession(caller: string, sessionId: string): Promise<boolean>;
}

/** What the queue carries: a job and its owner (the record's key). */
export interface QueuedJob {
  id: string;
  caller: string;
  /** The record's `queueToken`: only the message carrying it may run the job. */
  token: string;
}

export interface QueueStats {
  /** Accepted, not yet picked up by any replica. */
  queued: number;
}

/** The durable FIFO (a JetStream work-queue stream in production). */
export interface JobQueue {
  /** Deduplicated by job id and token (one message per token); resolves once the queue stored it. */
  enqueue(job: QueuedJob): Promise<void>;
  stats(): Promise<QueueStats>;
}

/** One job handed to this replica by the queue. */
export interface Delivery {
  id: string;
  caller: string;
  /** The token the message carries (absent in messages published before tokens). */
  token?: string;
  /** 1 on first delivery; more after a replica was lost (a hand-back publishes a new message). */
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
  /** `caller`: the job's principal, whose events subject it is published on. */
  publish(event: JobEvent, caller: string): void;
}

/** Tells every replica to stop a job; the one running it does. */
export interface CancelBus {
  broadcast(id: string, reason: string): Promise<void>;
}

export interface Workspace {
  dir: string;
  /** The repository's top-level CLAUDE.md at the checked-out commit (a capped regular file), if any. */
  projectInstructions?: string;
  release(): Promise<void>;
}

export interface Workspaces {
  prepare(job: { jobId: string; repo?: string; ref?: string; signal?: AbortSignal }): Promise<Workspace>;
}

/** Where each job's agent runs and as whom (see sandbox/sandbox.ts). */
export interface JobSandboxes {
  open(jobId: string): Promise<JobSandbox>;
}

/** Session transcripts kept off the pod, so `--resume` works on any replica. */
export type { TranscriptStore } from "@claude-gateway/claude";
/** Prompts and replies too large for a record (the job payload store). */
export type { Payloads } from "@claude-gateway/nats";

export type ClaudeRunner = (opts: RunOptions) => ClaudeRun;

export interface Clock {
  now(): Date;
}

/** Runs one job to its end; the worker injects it and aborts `signal` to cancel or hand back. */
export type RunJob = (job: JobRecord, signal: AbortSignal) => Promise<void>;

/** The abort reason that tells a job runner to hand its job back to the queue, not cancel it. */
export const HAND_BACK = "executor shutting down: job handed back to the queue";
