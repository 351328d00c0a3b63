import { randomUUID } from "node:crypto";
import type { LoginStatus } from "@claude-gateway/claude";
import {
  isTerminal,
  type JobRecord,
  type JobSubmission,
  ModelNotSupportedError,
  type ModelPolicy,
  resolveModel,
} from "@claude-gateway/contracts";
import { cancelQueuedJob, InvalidTransitionError, newJobRecord } from "./core/records.js";
import {
  BadRequestError,
  JobFinishedError,
  JobNotFoundError,
  QueueFullError,
  UnavailableError,
} from "./errors.js";
import type { CancelBus, Clock, JobQueue, JobStore } from "./ports.js";

export interface AgentCatalog {
  has(name: string): boolean;
  names(): string[];
  /** The agent's own default model, if its file names one. */
  modelOf(name: string): string | undefined;
}

export interface SubmitLimits {
  maxQueueDepth: number;
  /** Applied when a job names no budget. */
  defaultBudgetUsd: number;
  maxBudgetUsd: number;
  defaultTimeoutSeconds: number;
  /** What a full queue tells callers to wait. */
  retryAfterSeconds: number;
}

export interface ServiceDeps {
  store: JobStore;
  queue: JobQueue;
  cancelBus: CancelBus;
  agents: AgentCatalog;
  models: ModelPolicy;
  limits: SubmitLimits;
  clock: Clock;
  /** Whether the CLI can log in at all; without a login nothing is queued. */
  login?: () => LoginStatus;
  onSubmitted?: (job: JobRecord) => void;
}

export interface ExecutorService {
  submit(submission: JobSubmission, caller: string): Promise<{ job: JobRecord; duplicate: boolean }>;
  get(id: string): Promise<JobRecord>;
  cancel(id: string, reason?: string): Promise<JobRecord>;
}

/** Submit, read and cancel jobs: the logic behind both the HTTP and the NATS interface. */
export function createExecutorService(deps: ServiceDeps): ExecutorService {
  const { store, queue, limits } = deps;

  const validate = (s: JobSubmission): { model: string; submission: JobSubmission } => {
    if (!deps.agents.has(s.agent)) {
      throw new BadRequestError(
        "unknown_agent",
        `unknown agent '${s.agent}'; agents: ${deps.agents.names().join(", ")}`,
      );
    }
    let model: string;
    try {
      model = resolveModel(deps.models, s.model ?? deps.agents.modelOf(s.agent));
    } catch (err) {
      if (err instanceof ModelNotSupportedError) throw new BadRequestError(err.code, err.message);
      throw err;
    }
    const budgetUsd = s.budgetUsd ?? limits.defaultBudgetUsd;
    if (budgetUsd > limits.maxBudgetUsd) {
      throw new BadRequestError(
        "budget_too_high",
        `budgetUsd ${budgetUsd} exceeds this executor's limit of ${limits.maxBudgetUsd} USD per job`,
      );
    }
    return {
      model,
      submission: { ...s, budgetUsd, timeoutSeconds: s.timeoutSeconds ?? limits.defaultTimeoutSeconds },
    };
  };

  return {
    async submit(raw, caller) {
      const { model, submission } = validate(raw);
      const login = deps.login?.();
      if (login && !login.ok) throw new UnavailableError("claude_not_authenticated", login.reason);
      const id = raw.id ?? randomUUID();
      const existing = await store.get(id);
      if (existing) return { job: existing, duplicate: true };

      const { queued } = await queue.stats();
      if (queued >= limits.maxQueueDepth) throw new QueueFullError(queued, limits.retryAfterSeconds);

      const record = newJobRecord({
        id,
        submission: { ...submission, caller },
        model,
        caller,
        now: deps.clock.now(),
      });
      const created = await store.create(record);
      if (!created.created) return { job: created.record, duplicate: true };
      try {
        await queue.enqueue(id);
      } catch (err) {
        // Not queued means not accepted: remove the record so nothing claims to wait forever.
        await store.delete(id).catch(() => {});
        throw new UnavailableError("queue_unavailable", "the job queue did not accept the job", {
          cause: err,
        });
      }
      deps.onSubmitted?.(record);
      return { job: record, duplicate: false };
    },

    async get(id) {
      const job = await store.get(id);
      if (!job) throw new JobNotFoundError(id);
      return job;
    },

    async cancel(id, reason = "cancelled by request") {
      const job = await store.get(id);
      if (!job) throw new JobNotFoundError(id);
      if (isTerminal(job.status)) throw new JobFinishedError(id, job.status);
      let updated: JobRecord;
      try {
        updated = await store.update(id, (current) =>
          current.status === "queued" ? cancelQueuedJob(current, reason, deps.clock.now()) : current,
        );
      } catch (err) {
        if (!(err instanceof InvalidTransitionError)) throw err;
        updated = (await store.get(id)) ?? job;
      }
      // Whoever runs it stops it; the record turns `cancelled` when the process is gone.
      if (updated.status === "running") await deps.cancelBus.broadcast(id, reason);
      return updated;
    },
  };
}
