import {
  isTerminal,
  type JobEvent,
  type JobRecord,
  JobRef,
  JobSubmission,
  jobIdFor,
  subjects,
  type TokenUsage,
  type ToolCall,
  type ToolResult,
} from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import type { CallerJobRef, Executor, JobEvents } from "../ports.js";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventBody = DistributiveOmit<JobEvent, "jobId" | "seq" | "at">;

export const USAGE: TokenUsage = {
  inputTokens: 10,
  outputTokens: 5,
  cacheReadInputTokens: 100,
  cacheCreationInputTokens: 20,
};

/**
 * An in-memory executor that behaves like the real one on the wire: it validates submissions and
 * refs against the contract, mints job ids as the contract says (`jobIdFor(caller, id)`, else a
 * counter), answers another caller's job and unknown ids with 404 and finished jobs' cancels
 * with 409, and publishes events only to subscribers open at the time (core NATS is not durable).
 */
export interface FakeExecutor extends Executor {
  readonly submissions: JobSubmission[];
  /** Ids of the jobs cancelled. */
  readonly cancelled: string[];
  /** Every get and cancel, as asked. */
  readonly refs: CallerJobRef[];
  /** Called after each accepted submit: script the job here. */
  onSubmit: ((job: JobRecord) => void) | undefined;
  /** Thrown by the next submits instead of accepting. */
  submitError: Error | undefined;
  emit(id: string, body: EventBody): void;
  /** Updates the record; a terminal status is announced unless `silent` (a lost event). */
  finish(
    id: string,
    patch: Partial<JobRecord> & Pick<JobRecord, "status">,
    opts?: { silent?: boolean },
  ): void;
  /** Runs a job to success: running, text deltas, result, succeeded. */
  succeed(id: string, deltas: string[], usage?: TokenUsage): void;
  /** Open event subscriptions. */
  subscribers(id?: string): number;
  /** The job pauses on the model's calls of the caller's tools (event and record). */
  pause(id: string, calls: ToolCall[], text?: string): void;
  /** Every set of tool results taken, in order. */
  readonly toolResults: Array<{ id: string; results: ToolResult[] }>;
}

export function fakeExecutor(): FakeExecutor {
  const records = new Map<string, JobRecord>();
  const seqs = new Map<string, number>();
  const subs = new Map<string, Set<Queue<JobEvent>>>();

  const record = (id: string) => {
    const r = records.get(id);
    if (!r) throw new RemoteServiceError(subjects.jobs.serve.get, 404, "job_not_found", `no job ${id}`);
    return r;
  };
  /** The requester's job by id (or its own client id); another caller's is not found. */
  const owned = (subject: string, raw: CallerJobRef) => {
    const ref = JobRef.safeParse(raw);
    if (!ref.success || ref.data.caller === undefined)
      throw new RemoteServiceError(subject, 400, "invalid_request", "invalid request");
    const { id, caller } = ref.data;
    fake.refs.push({ id, caller });
    const job = records.get(id) ?? records.get(jobIdFor(caller, id));
    if (!job || job.caller !== caller)
      throw new RemoteServiceError(subject, 404, "job_not_found", `no job ${id}`);
    return job;
  };
  const fake: FakeExecutor = {
    submissions: [],
    cancelled: [],
    toolResults: [],
    refs: [],
    onSubmit: undefined,
    submitError: undefined,
    async submit(raw) {
      if (fake.submitError) throw fake.submitError;
      const parsed = JobSubmission.safeParse(raw);
      // Over NATS a submit names its caller.
      if (!parsed.success || parsed.data.caller === undefined)
        throw new RemoteServiceError(subjects.jobs.serve.admit, 400, "invalid_request", "invalid request");
      const s = parsed.data;
      const caller = s.caller as string;
      const id = s.id === undefined ? `job-${fake.submissions.length + 1}` : jobIdFor(caller, s.id);
      const existing = records.get(id);
      if (existing) return existing;
      fake.submissions.push(s);
      const job: JobRecord = {
        id,
        ...(s.id !== undefined ? { clientId: s.id } : {}),
        status: "queued",
        agent: s.agent,
        model: s.model ?? "claude-sonnet-4-6",
        caller,
        submission: s,
        queuedAt: new Date(0).toISOString(),
        attempts: 0,
      };
      records.set(id, job);
      queueMicrotask(() => fake.onSubmit?.(job));
      return job;
    },
    async get(ref) {
      return owned(subjects.jobs.serve.get, ref);
    },
    async cancel(ref) {
      const job = owned(subjects.jobs.serve.cancel, ref);
      const id = job.id;
      if (isTerminal(job.status)) {
        throw new RemoteServiceError(
          subjects.jobs.serve.cancel,
          409,
          "job_finished",
          `job ${id} is already ${job.status}`,
        );
      }
      fake.cancelled.push(id);
      fake.emit(id, { type: "error", reason: "cancelled", message: "cancelled over NATS" });
      fake.finish(id, {
        status: "cancelled",
        error: { reason: "cancelled", message: "cancelled over NATS" },
      });
      return record(id);
    },
    async supplyToolResults(ref, results) {
      const job = owned(subjects.jobs.serve.tools, ref);
      const pending = job.toolCalls;
      if (!pending) {
        throw new RemoteServiceError(
          subjects.jobs.serve.tools,
          409,
          "not_waiting_for_tool_results",
          `job ${job.id} is ${job.status} and waits for no tool results`,
        );
      }
      const want = pending.calls.map((c) => c.id).sort();
      const got = results.map((r) => r.id).sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) {
        throw new RemoteServiceError(
          subjects.jobs.serve.tools,
          400,
          "tool_results_mismatch",
          `job ${job.id}: not a pending call: ${got.filter((g) => !want.includes(g)).join(", ")}`,
        );
      }
      fake.toolResults.push({ id: job.id, results });
      const { toolCalls: _answered, ...rest } = job;
      records.set(job.id, rest);
      return { afterSeq: pending.seq };
    },
    pause(id, calls, text = "") {
      const seq = seqs.get(id) ?? 0;
      const at = new Date(0).toISOString();
      const expiresAt = new Date(300_000).toISOString();
      records.set(id, { ...record(id), status: "running", toolCalls: { calls, text, seq, at, expiresAt } });
      fake.emit(id, { type: "tool_calls", calls, text, expiresAt });
    },
    events(_caller, id): JobEvents {
      const q = queue<JobEvent>();
      const set = subs.get(id) ?? new Set();
      set.add(q);
      subs.set(id, set);
      return {
        [Symbol.asyncIterator]: () => q.iterator(),
        close: () => {
          set.delete(q);
          q.close();
        },
      };
    },
    emit(id, body) {
      const seq = seqs.get(id) ?? 0;
      seqs.set(id, seq + 1);
      const event = { ...body, jobId: id, seq, at: new Date(0).toISOString() } as JobEvent;
      for (const q of subs.get(id) ?? []) q.push(event);
    },
    finish(id, patch, opts = {}) {
      records.set(id, { ...record(id), ...patch });
      if (!opts.silent) fake.emit(id, { type: "status", status: patch.status });
    },
    succeed(id, deltas, usage = USAGE) {
      fake.emit(id, { type: "status", status: "running" });
      for (const delta of deltas) fake.emit(id, { type: "text", delta });
      const text = deltas.join("");
      fake.emit(id, { type: "result", text, sessionId: "s", costUsd: 0.01, usage });
      fake.finish(id, {
        status: "succeeded",
        result: { text, sessionId: "s", numTurns: 1, permissionDenials: 0 },
        usage,
        costUsd: 0.01,
      });
    },
    subscribers(id) {
      if (id !== undefined) return subs.get(id)?.size ?? 0;
      return [...subs.values()].reduce((n, s) => n + s.size, 0);
    },
  };
  return fake;
}

interface Queue<T> {
  push(value: T): void;
  close(): void;
  iterator(): AsyncIterator<T>;
}

/** A push-fed async iterator: what a NATS subscription looks like to its reader. */
export function queue<T>(): Queue<T> {
  const items: T[] = [];
  const waiting: Array<(r: IteratorResult<T>) => void> = [];
  let closed = false;
  return {
    push(value) {
      if (closed) return;
      const w = waiting.shift();
      if (w) w({ value, done: false });
      else items.push(value);
    },
    close() {
      closed = true;
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
    },
    iterator: () => ({
      next: () => {
        const item = items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
    }),
  };
}
