import { randomUUID } from "node:crypto";
import type { LoginStatus } from "@claude-gateway/claude";
import {
  isTerminal,
  type JobRecord,
  type JobSubmission,
  jobIdFor,
  MAX_PROMPT_CHARS,
  ModelNotSupportedError,
  type ModelPolicy,
  type PayloadRef,
  payloadObjects,
  resolveModel,
  type ToolResult,
  type ToolResultsReply,
} from "@claude-gateway/contracts";
import { checkAccess, type PolicyGate, type Ticket } from "@claude-gateway/policy";
import { type Logger, ServiceError } from "@claude-gateway/service-kit";
import { imagesProblem, jobImageObject } from "./core/images.js";
import {
  cancelQueuedJob,
  DEFAULT_MAX_RECORD_BYTES,
  InvalidTransitionError,
  markEnqueued,
  newestFirst,
  newJobRecord,
  pageOf,
  recordBytes,
  requestCancel,
  withImagesByRef,
  withPromptByRef,
} from "./core/records.js";
import {
  BadRequestError,
  JobFinishedError,
  JobNotFoundError,
  QueueFullError,
  RepoNotAllowedError,
  SessionNotFoundError,
  UnavailableError,
} from "./errors.js";
import type { CancelBus, Clock, JobQueue, JobStore, Payloads } from "./ports.js";
import { supplyToolResults, type ToolResultsRouting } from "./tool-results.js";
import {
  checkRepo,
  credentialsProblem,
  EMPTY_ALLOWLIST,
  type RefCheck,
  type RepoAllowlist,
  redactCredentials,
  refProblem,
  repoUrlProblem,
} from "./workspace/index.js";

export interface AgentCatalog {
  has(name: string): boolean;
  names(): string[];
  /** The agent's own default model, if its file names one. */
  modelOf(name: string): string | undefined;
  /** Whether the agent has no tools of its own: only such an agent takes a caller's tools. */
  hasNoTools?(name: string): boolean;
}

/** Looks a job's ref up before the job is queued (the workspace manager). */
export interface RefLookup {
  checkRef(repo: string, ref: string): Promise<RefCheck>;
}

export interface SubmitLimits {
  maxQueueDepth: number;
  /** Applied when a job names no budget. */
  defaultBudgetUsd: number;
  maxBudgetUsd: number;
  defaultTimeoutSeconds: number;
  /** What a full queue tells callers to wait. */
  retryAfterSeconds: number;
  /** The largest record the bus carries (the server's `max_payload` less headroom). */
  maxRecordBytes?: number;
}

export interface ServiceDeps {
  /** The caller policy: access, limits and counting; admins. */
  gate: PolicyGate;
  /** How long a job's in-flight lease holds if nobody releases it (its record's TTL). */
  jobLeaseMs: number;
  store: JobStore;
  queue: JobQueue;
  /** Where a prompt too large for its record goes (absent: such a prompt is refused, 413). */
  payloads?: Payloads;
  cancelBus: CancelBus;
  agents: AgentCatalog;
  models: ModelPolicy;
  limits: SubmitLimits;
  /** REPO_ALLOWLIST: the repositories jobs may clone. Absent or empty, none may. */
  repoAllowlist?: RepoAllowlist;
  /** Refuses a ref the repository does not have (400) instead of queueing a job that must fail. */
  refs?: RefLookup;
  clock: Clock;
  /** Whether the CLI can log in at all; without a login nothing is queued. */
  login?: () => LoginStatus;
  onSubmitted?: (job: JobRecord) => void;
  logger?: Logger;
  /** A job ended without running (cancelled while queued): its lease goes back. */
  onEnded?: (job: JobRecord) => void;
  /** Where results for jobs paused on the caller's tool calls go (absent: refused, 503). */
  toolResults?: ToolResultsRouting;
}

export interface SubmitOptions {
  /**
   * The submitting service already checked and counted this request against the caller's policy
   * (the OpenAI gateway): access is checked again, nothing is counted again.
   */
  admitted?: boolean;
}

export interface ExecutorService {
  /** Submits a job owned by `caller` (a principal). */
  submit(
    submission: JobSubmission,
    caller: string,
    opts?: SubmitOptions,
  ): Promise<{ job: JobRecord; duplicate: boolean }>;
  /** A job by its id or the requester's own client id; another caller's is not found (admins see all). */
  get(id: string, requester: string): Promise<JobRecord>;
  cancel(id: string, requester: string, reason?: string): Promise<JobRecord>;
  /**
   * The requester's results for its job paused on tool calls: the job goes on (its events after
   * `afterSeq` answer them). 400 when they are not exactly the pending calls, 409 when the job
   * waits for none, 404 for another caller's job.
   */
  supplyToolResults(id: string, requester: string, results: readonly ToolResult[]): Promise<ToolResultsReply>;
  /** The requester's jobs, newest first (an admin's: everyone's, or one caller's). */
  list(
    requester: string,
    opts?: { limit?: number; after?: string; caller?: string },
  ): Promise<{ jobs: JobRecord[]; next?: string }>;
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
    if (s.repo !== undefined) checkRepoOf(s.repo, s.ref);
    if (s.tools !== undefined && !deps.agents.hasNoTools?.(s.agent)) {
      const why = `agent '${s.agent}' has tools of its own; a caller's tools go to an agent without any (profile no-tools)`;
      throw new BadRequestError("tools_not_allowed", why, [{ path: "tools", message: why }]);
    }
    return {
      model,
      submission: { ...s, budgetUsd, timeoutSeconds: s.timeoutSeconds ?? limits.defaultTimeoutSeconds },
    };
  };

  /** A repository and ref the workspace would refuse are refused here, before anything is queued. */
  const checkRepoOf = (repo: string, ref: string | undefined) => {
    const shown = JSON.stringify(redactCredentials(repo));
    const problem = repoUrlProblem(repo);
    if (problem !== undefined) {
      throw new BadRequestError("invalid_repo", `repository ${shown} ${problem}`, [
        { path: "repo", message: problem },
      ]);
    }
    // Credentials are the deployer's (GIT_CREDENTIALS_FILE); a caller's would end up in records and logs.
    const credentials = credentialsProblem(repo);
    if (credentials !== undefined) {
      throw new BadRequestError(
        "repo_credentials_not_allowed",
        `repository ${shown} ${credentials}: give the URL without them; the executor clones with its own`,
        [{ path: "repo", message: credentials }],
      );
    }
    const verdict = checkRepo(deps.repoAllowlist ?? EMPTY_ALLOWLIST, repo);
    if (!verdict.allowed) throw new RepoNotAllowedError(verdict.why);
    const badRef = ref === undefined ? undefined : refProblem(ref);
    if (badRef !== undefined) {
      throw new BadRequestError("invalid_ref", `ref ${JSON.stringify(ref)} ${badRef}`, [
        { path: "ref", message: badRef },
      ]);
    }
  };

  /** A ref the repository surely lacks is a 400 now rather than a failed job later. */
  const checkRef = async (repo: string | undefined, ref: string | undefined) => {
    if (repo === undefined || ref === undefined || deps.refs === undefined) return;
    const found = await deps.refs.checkRef(repo, ref);
    if (found.status === "missing") {
      throw new BadRequestError("ref_not_found", found.detail, [{ path: "ref", message: found.detail }]);
    }
  };

  const isAdmin = (principal: string) => deps.gate.limitsFor(principal).admin;

  /** The requester's job by its id or the requester's own id; an admin's: anyone's. */
  const find = async (id: string, requester: string): Promise<JobRecord> => {
    const job = (await store.get(requester, id)) ?? (await store.get(requester, jobIdFor(requester, id)));
    if (job) return job;
    if (isAdmin(requester)) {
      const any = await store.find(id);
      if (any) return any;
    }
    throw new JobNotFoundError(id);
  };

  return {
    async submit(raw, caller, opts = {}) {
      if (raw.promptRef !== undefined) {
        // Only the gateway hands a prompt over by reference, and only one it stored for this caller.
        const ours = opts.admitted && raw.promptRef.object.startsWith(payloadObjects.incomingPrefix(caller));
        if (!ours) {
          throw new BadRequestError("prompt_ref_not_allowed", "promptRef is set by the gateway only", [
            { path: "promptRef", message: "not allowed" },
          ]);
        }
        // What a prompt of MAX_PROMPT_CHARS characters can take in UTF-8 at most.
        if (raw.promptRef.bytes > MAX_PROMPT_CHARS * 4) {
          throw new ServiceError(413, "prompt_too_large", `the prompt takes ${raw.promptRef.bytes} bytes`);
        }
      }
      const imageIssue = imagesProblem(raw.images, { caller, admitted: opts.admitted === true });
      if (imageIssue) {
        throw new BadRequestError(imageIssue.code, `${imageIssue.path}: ${imageIssue.message}`, [
          { path: imageIssue.path, message: imageIssue.message },
        ]);
      }
      const { model, submission } = validate(raw);
      checkAccess(deps.gate.limitsFor(caller), { agent: submission.agent, model });
      const login = deps.login?.();
      if (login && !login.ok) throw new UnavailableError("claude_not_authenticated", login.reason);
      if (submission.session?.kind === "resume" && !(await store.hasSession(caller, submission.session.id))) {
        throw new SessionNotFoundError(submission.session.id);
      }

      // A caller's own id names one job of that caller (and only of that caller).
      const id = raw.id === undefined ? randomUUID() : jobIdFor(caller, raw.id);
      if (raw.id !== undefined) {
        const existing = await store.get(caller, id);
        if (existing) return { job: existing, duplicate: true };
      }
      await checkRef(submission.repo, submission.ref);
      let ticket: Ticket | undefined;
      const giveBack = async () => {
        await ticket?.release().catch(() => {});
      };
      try {
        const { queued } = await queue.stats();
        if (queued >= limits.maxQueueDepth) throw new QueueFullError(queued, limits.retryAfterSeconds);
        if (!opts.admitted) {
          ticket = await deps.gate.admit(caller, {
            agent: submission.agent,
            model,
            leaseId: id,
            leaseMs: deps.jobLeaseMs,
            // A queued job's lease stands while its record says it may still run.
            isLive: async (leaseId) => {
              const job = await store.get(caller, leaseId);
              return job !== null && !isTerminal(job.status);
            },
          });
        }
      } catch (err) {
        await giveBack();
        throw err;
      }

      const budgetUsd = ticket ? ticket.capBudget(submission.budgetUsd) : submission.budgetUsd;
      // The gateway admits a job with the caller's tools under the job's id and hands its in-flight
      // slot over: the job holds it across its pauses (while no request of the caller is open) and
      // gives it back when it ends, however it ends.
      const lease = ticket ? ticket.leaseId : opts.admitted && submission.tools ? id : undefined;
      let record = newJobRecord({
        id,
        submission: { ...submission, caller, ...(budgetUsd !== undefined ? { budgetUsd } : {}) },
        model,
        caller,
        ...(lease !== undefined ? { lease } : {}),
        queueToken: randomUUID(),
        now: deps.clock.now(),
      });
      // Half of what the bus carries at most: the other half is the reply's, recorded with it. What
      // does not fit goes to the payload store — inline images first, then the prompt (the record
      // keeps its beginning).
      const maxBytes = Math.floor((limits.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES) / 2);
      if (submission.promptRef) record = withPromptByRef(record, submission.promptRef);
      const payloads = deps.payloads;
      if (recordBytes(record) > maxBytes && payloads) {
        try {
          const inline = (record.submission.images ?? []).flatMap((image, i) =>
            image.data === undefined ? [] : [{ i, data: image.data }],
          );
          if (inline.length > 0) {
            const refs = new Map<number, PayloadRef>();
            await Promise.all(
              inline.map(async ({ i, data }) => refs.set(i, await payloads.put(jobImageObject(id, i), data))),
            );
            record = withImagesByRef(record, refs);
          }
          if (!record.promptRef && recordBytes(record) > maxBytes) {
            record = withPromptByRef(
              record,
              await payloads.put(payloadObjects.prompt(id), submission.prompt),
            );
          }
        } catch (err) {
          await giveBack();
          throw new UnavailableError(
            "payload_store_unavailable",
            "the payload store did not take the job's prompt or images (too large for a record)",
            { cause: err },
          );
        }
      }
      const bytes = recordBytes(record);
      if (bytes > maxBytes) {
        await giveBack();
        throw new ServiceError(
          413,
          "prompt_too_large",
          `the job (its prompt, images and settings) takes ${bytes} bytes; at most ${maxBytes} fit (half of what the bus carries, the other half is the reply's)`,
        );
      }
      let created: { created: boolean; record: JobRecord };
      try {
        created = await store.create(record);
      } catch (err) {
        await giveBack();
        throw err;
      }
      if (!created.created) {
        // The same id submitted twice at once: the other submission won.
        await giveBack();
        return { job: created.record, duplicate: true };
      }
      const token = record.queueToken!;
      try {
        await queue.enqueue({ id, caller, token });
      } catch (err) {
        // Not queued means not accepted: remove the record so nothing claims to wait forever. Should
        // the message have been stored all the same (an ack that timed out), it names a token no
        // record holds any more (a resubmitted id mints a new one): it is dropped, never run.
        await store.delete(caller, id).catch(() => {});
        await giveBack();
        throw new UnavailableError("queue_unavailable", "the job queue did not accept the job", {
          cause: err,
        });
      }
      // The queue holds it: a sweep leaves it alone. Should this write fail, a sweep publishes it
      // again under a new token and this message goes stale: it still runs exactly once.
      const confirmed = await store
        .update(caller, id, (r) => markEnqueued(r, token, deps.clock.now()))
        .catch((err: unknown) => {
          deps.logger?.warn(
            { jobId: id, err },
            "could not mark the job enqueued; a sweep will re-enqueue it",
          );
          return record;
        });
      deps.onSubmitted?.(confirmed);
      return { job: confirmed, duplicate: false };
    },

    get: (id, requester) => find(id, requester),

    async supplyToolResults(id, requester, results) {
      const job = await find(id, requester);
      if (!deps.toolResults) {
        throw new UnavailableError("tool_results_unavailable", "this executor takes no tool results");
      }
      return supplyToolResults(deps.toolResults, job, results);
    },

    async cancel(id, requester, reason = "cancelled by request") {
      const job = await find(id, requester);
      if (isTerminal(job.status)) throw new JobFinishedError(job.id, job.status);
      let updated: JobRecord;
      try {
        updated = await store.update(job.caller, job.id, (current) =>
          current.status === "queued" ? cancelQueuedJob(current, reason, deps.clock.now()) : current,
        );
      } catch (err) {
        if (!(err instanceof InvalidTransitionError)) throw err;
        updated = (await store.get(job.caller, job.id)) ?? job;
      }
      if (updated.status === "cancelled") deps.onEnded?.(updated);
      if (updated.status === "running") {
        // Whoever runs it stops it; the record turns `cancelled` when the process is gone. The
        // broadcast is at once but core NATS (lost if that replica is briefly disconnected); the
        // request in the record is what its next heartbeat finds in that case.
        updated = await store.update(job.caller, job.id, (r) => requestCancel(r, reason, deps.clock.now()));
        await deps.cancelBus.broadcast(job.id, reason);
      }
      return updated;
    },

    async list(requester, opts = {}) {
      const limit = Math.min(Math.max(1, opts.limit ?? 50), 200);
      const scope = isAdmin(requester) ? opts.caller : requester;
      const jobs = (await store.list(scope)).sort(newestFirst);
      return pageOf(jobs, { limit, ...(opts.after !== undefined ? { after: opts.after } : {}) });
    },
  };
}
