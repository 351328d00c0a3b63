import { randomUUID } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  findTranscript,
  type ImageInput,
  type Invocation,
  type ModelSpend,
  type ParsedLine,
  type RunResult,
  spendByModel,
  tokenUsage,
  transcriptPath,
  type WarmOptions,
  type WarmProcess,
} from "@claude-gateway/claude";
import {
  type ClientToolDef,
  type JobEvent,
  type JobRecord,
  type PayloadRef,
  type PendingToolCalls,
  type PlanReading,
  payloadObjects,
} from "@claude-gateway/contracts";
import type { PlanStore } from "@claude-gateway/policy";
import type { Logger } from "@claude-gateway/service-kit";
import { failureOutcome } from "./core/failure.js";
import { imageDataProblem } from "./core/images.js";
import {
  DEFAULT_MAX_RECORD_BYTES,
  executorStoppedOutcome,
  type FinishOutcome,
  finishFits,
  finishWithin,
  InvalidTransitionError,
  markEnqueued,
  pauseOnToolCalls,
  requeueJob,
  resumeFromToolCalls,
  startJob,
  withResultByRef,
} from "./core/records.js";
import { eventSequencer, readLine } from "./core/translate.js";
import {
  BadRequestError,
  InvalidImageError,
  PayloadUnavailableError,
  ToolResultsExpiredError,
} from "./errors.js";
import {
  type ClaudeRunner,
  type Clock,
  type EventPublisher,
  HAND_BACK,
  type JobQueue,
  type JobSandbox,
  type JobSandboxes,
  type JobStore,
  type Payloads,
  type TranscriptStore,
  type Workspace,
  type Workspaces,
} from "./ports.js";
import type { Prewarmed, PrewarmPool } from "./prewarm.js";
import { withProjectInstructions } from "./project-instructions.js";
import type { ToolHolds } from "./tool-results.js";

export interface RunJobDeps {
  store: JobStore;
  events: EventPublisher;
  workspaces: Workspaces;
  transcripts: TranscriptStore;
  /** Prompts and replies too large for a record. */
  payloads?: Payloads;
  runClaude: ClaudeRunner;
  /** The invocation of a job's agent (profile, tools, prompt) for this run. */
  invocationFor: (job: JobRecord) => Invocation;
  /** The environment the CLI's variables come from (its login, HOME, API URL…). */
  claudeEnv: Readonly<Record<string, string | undefined>>;
  /** Set verbatim in every job's CLI environment (e.g. the git identity agents commit with). */
  jobEnv?: Readonly<Record<string, string>>;
  /** Where each job's agent runs and as whom: a fresh home, and its own user when isolated. */
  sandboxes: JobSandboxes;
  /**
   * The service's own `$CLAUDE_CONFIG_DIR` (or `$HOME/.claude`): keeps a copy of every transcript a
   * job recorded, so a session resumes on this replica even when the object store is down.
   */
  claudeConfigDir: string;
  executorId: string;
  clock: Clock;
  logger: Logger;
  bin?: string;
  killGraceMs?: number;
  /** The largest record the bus carries (the server's `max_payload` less headroom). */
  maxRecordBytes?: number;
  /** How long the final record write is retried while the store is away (default 2 min). */
  finalWriteRetryMs?: number;
  /** Where a job handed back at shutdown (its CLI not started yet) goes again. */
  queue: Pick<JobQueue, "enqueue">;
  /** Prewarmed CLI processes for the jobs `keyOf` names a key for (stateless, no-tools). */
  prewarm?: { pool: PrewarmPool; keyOf: (job: JobRecord) => string | undefined };
  /**
   * The subscription plan's shared record: told what every run's CLI reports of the plan's
   * utilisation (OAuth logins only), so every replica's admission knows when it is at its limit.
   */
  plan?: Pick<PlanStore, "record">;
  /**
   * Client tool calling: a job with `tools` runs in a warm process that hosts them; when the model
   * calls them the job pauses (a hold on this replica) until the caller's results arrive, for at
   * most `resultsTimeoutMs` (then it fails `tool_results_expired`). Absent: such jobs fail.
   */
  clientTools?: {
    start: (opts: WarmOptions) => WarmProcess;
    holds: ToolHolds;
    resultsTimeoutMs: number;
  };
  onStarted?: (job: JobRecord) => void;
  onFinished?: (job: JobRecord, spend: ModelSpend[]) => void;
}

/** Runs one job: record it running, prepare its checkout, run the agent, record the outcome, clean up. */
export function createJobRunner(deps: RunJobDeps) {
  return async (queued: JobRecord, signal: AbortSignal): Promise<void> => {
    const log = deps.logger;
    const next = eventSequencer(queued.id, () => deps.clock.now());
    const publish = (body: Parameters<typeof next>[0]): JobEvent => {
      const event = next(body);
      deps.events.publish(event, queued.caller);
      return event;
    };

    let job: JobRecord;
    try {
      job = await deps.store.update(queued.caller, queued.id, (r) =>
        startJob(r, { executor: deps.executorId, now: deps.clock.now() }),
      );
    } catch (err) {
      // Cancelled (or started elsewhere) meanwhile: done with this message. Anything else (the store
      // away) throws, so the message is not acknowledged and comes back.
      if (!(err instanceof InvalidTransitionError)) throw err;
      log.info({ jobId: queued.id, err: err.message }, "job not started");
      return;
    }
    publish({ type: "status", status: "running" });
    deps.onStarted?.(job);
    let spend: ModelSpend[] = [];

    let workspace: Workspace | undefined;
    let box: JobSandbox | undefined;
    let prewarmed: Prewarmed | undefined;
    /** The process of a job with client tools. */
    let warm: WarmProcess | undefined;
    let outcome: FinishOutcome;
    let handedBack = false;
    /** From here on the agent may have acted: the job is never run again. */
    let cliStarted = false;
    /**
     * The plan's reports written so far. The job's answer waits for them: a client told its run hit
     * the plan's limit finds every replica refusing the next request, not starting another CLI.
     */
    const planWrites: Promise<void>[] = [];
    const planWritten = () => Promise.all(planWrites);
    const recordPlan = (reading: PlanReading) => {
      if (!deps.plan) return;
      planWrites.push(
        deps.plan
          .record(reading, deps.clock.now())
          .catch((err: unknown) =>
            log.warn({ jobId: job.id, err }, "could not record the plan's utilisation"),
          ),
      );
    };
    let cleanedUp: Promise<void> | undefined;
    const cleanup = () => {
      cleanedUp ??= (async () => {
        // A prewarmed process serves one job only.
        await prewarmed?.process.close();
        await warm?.close();
        await box
          ?.close()
          .catch((err: unknown) => log.warn({ jobId: job.id, err }, "could not close the job's sandbox"));
        await workspace
          ?.release()
          .catch((err: unknown) => log.warn({ jobId: job.id, err }, "could not remove checkout"));
      })();
      return cleanedUp;
    };
    try {
      const s = job.submission;
      const timeoutMs = (s.timeoutSeconds ?? 900) * 1000;
      const onEvent = (line: ParsedLine) => {
        const { events, plan } = readLine(line);
        for (const body of events) publish(body);
        for (const reading of plan) recordPlan(reading);
      };
      const prompt = await promptOf(deps, job);
      const images = await imagesOf(deps, job);
      const key = deps.prewarm?.keyOf(job);
      prewarmed = key === undefined ? undefined : deps.prewarm?.pool.take(key);
      if (prewarmed) {
        // Started before this job, in its own empty checkout and sandbox: only the prompt is new.
        workspace = prewarmed.workspace;
        box = prewarmed.sandbox;
      }
      if (prewarmed) cliStarted = true;
      const out = prewarmed
        ? await prewarmed.process.turn({ prompt, ...(images ? { images } : {}), timeoutMs, signal, onEvent })
        : s.tools
          ? await runWithTools(s.tools)
          : await runCold();
      await planWritten();
      spend = spendByModel(out.result, job.model);
      const usage = tokenUsage(out.result);
      outcome = {
        status: "succeeded",
        result: {
          text: out.text,
          sessionId: out.sessionId,
          numTurns: out.result.num_turns,
          permissionDenials: out.result.permission_denials.length,
          ...(out.result.structured_output !== undefined
            ? { structuredOutput: out.result.structured_output }
            : {}),
          ...(typeof out.result.stop_reason === "string" ? { stopReason: out.result.stop_reason } : {}),
        },
        costUsd: out.costUsd,
        usage,
      };
      if (s.session && box && workspace) {
        // Only the caller whose job recorded the session may resume it. A fork's is a new session:
        // its own transcript is stored, the resumed one stays as it was.
        await deps.store.addSession(job.caller, out.sessionId);
        await saveTranscript(deps, out.sessionId, box, workspace.dir);
      }
      publish({ type: "result", text: out.text, sessionId: out.sessionId, costUsd: out.costUsd, usage });

      /**
       * The job's checkout and sandbox, its session's transcript restored: where its CLI starts
       * (from here on the agent may have acted). What every start of the job's CLI shares.
       */
      async function prepareRun(): Promise<WarmOptions> {
        const dir = await deps.workspaces.prepare({
          jobId: job.id,
          ...(s.repo !== undefined ? { repo: s.repo } : {}),
          ...(s.ref !== undefined ? { ref: s.ref } : {}),
          // A job waiting for space in the workspace can still be cancelled or handed back.
          signal,
        });
        workspace = dir;
        const sandbox = await deps.sandboxes.open(job.id);
        box = sandbox;
        if (s.session?.kind === "resume") await restoreTranscript(deps, s.session.id, sandbox, dir.dir);
        await sandbox.adopt(dir.dir);
        signal.throwIfAborted();
        cliStarted = true;
        return {
          invocation: withProjectInstructions(deps.invocationFor(job), dir.projectInstructions),
          cwd: dir.dir,
          sourceEnv: deps.claudeEnv,
          setEnv: { ...deps.jobEnv, ...sandbox.env },
          ...(sandbox.runAs ? { runAs: sandbox.runAs } : {}),
          ...(sandbox.launcher ? { launcher: sandbox.launcher } : {}),
          logger: log,
          ...(deps.bin ? { bin: deps.bin } : {}),
          ...(deps.killGraceMs !== undefined ? { killGraceMs: deps.killGraceMs } : {}),
        };
      }

      async function runCold(): Promise<RunResult> {
        const start = await prepareRun();
        const run = deps.runClaude({
          ...start,
          prompt,
          ...(images ? { images } : {}),
          timeoutMs,
          signal,
          onEvent,
        });
        return run.done;
      }

      /**
       * A job with the caller's tools: one warm process hosts them (the model sees only these).
       * Each message that ends in calls of them pauses the job: the calls are announced (event and
       * record) and held here until the caller's results arrive on any replica and are routed to
       * this one; then the same process goes on. Unanswered calls expire and the job fails.
       */
      async function runWithTools(tools: readonly ClientToolDef[]): Promise<RunResult> {
        const hosting = deps.clientTools;
        if (!hosting) throw new Error("this executor is not set up to host a caller's tools");
        const proc = hosting.start({
          ...(await prepareRun()),
          clientTools: tools.map((t) => ({
            name: t.name,
            ...(t.description !== undefined ? { description: t.description } : {}),
            inputSchema: t.inputSchema,
          })),
        });
        warm = proc;
        const turnStop = new AbortController();
        const stopTurn = () => turnStop.abort(signal.reason);
        if (signal.aborted) stopTurn();
        else signal.addEventListener("abort", stopTurn, { once: true });
        /** The text of the message being generated (the one that may end in calls). */
        let messageText = "";
        let expired: string | undefined;
        let release: (() => void) | undefined;
        let expiry: NodeJS.Timeout | undefined;
        const endPause = () => {
          release?.();
          release = undefined;
          clearTimeout(expiry);
        };
        try {
          return await proc.turn({
            prompt,
            ...(images ? { images } : {}),
            timeoutMs,
            signal: turnStop.signal,
            onEvent: (line) => {
              const { events, plan } = readLine(line);
              for (const body of events) {
                // The calls of the caller's tools travel as `tool_calls`; the agent has no others
                // (a call of anything else ran nothing).
                if (body.type === "tool_use" || body.type === "tool_result") continue;
                if (body.type === "text") messageText += body.delta;
                publish(body);
              }
              for (const reading of plan) recordPlan(reading);
            },
            onToolCalls: (made) => {
              const now = deps.clock.now();
              const calls = made.map((c) => ({ id: c.toolUseId, name: c.name, input: c.arguments }));
              const expiresAt = new Date(now.getTime() + hosting.resultsTimeoutMs).toISOString();
              const text = messageText;
              messageText = "";
              const event = publish({ type: "tool_calls", calls, text, expiresAt });
              const pending: PendingToolCalls = {
                calls,
                text,
                seq: event.seq,
                at: now.toISOString(),
                expiresAt,
              };
              // The record says so too: a caller that missed the event finds the calls there.
              const recorded = deps.store
                .update(job.caller, job.id, (r) => pauseOnToolCalls(r, pending))
                .then(
                  () => undefined,
                  (err: unknown) =>
                    log.warn({ jobId: job.id, err }, "could not record the pending tool calls"),
                );
              log.info(
                { jobId: job.id, calls: calls.map((c) => c.name) },
                "job paused on the caller's tool calls",
              );
              release = hosting.holds.hold(job.id, {
                caller: job.caller,
                supply: async (results) => {
                  const problem = proc.supplyToolResults(
                    results.map((r) => ({
                      toolUseId: r.id,
                      content: r.content,
                      ...(r.isError !== undefined ? { isError: r.isError } : {}),
                    })),
                  );
                  if (problem) {
                    throw new BadRequestError("tool_results_mismatch", `job ${job.id}: ${problem}`, [
                      { path: "results", message: problem },
                    ]);
                  }
                  endPause();
                  await recorded;
                  await deps.store
                    .update(job.caller, job.id, (r) => resumeFromToolCalls(r, pending.seq))
                    .catch((err: unknown) =>
                      log.warn({ jobId: job.id, err }, "could not record that the tool calls were answered"),
                    );
                  return { afterSeq: pending.seq };
                },
              });
              expiry = setTimeout(() => {
                expired = `the model's calls of ${calls.map((c) => c.name).join(", ")} waited ${Math.round(hosting.resultsTimeoutMs / 1000)} s for their results, which did not come`;
                turnStop.abort(expired);
              }, hosting.resultsTimeoutMs);
            },
          });
        } catch (err) {
          if (expired !== undefined) throw new ToolResultsExpiredError(expired, { cause: err });
          throw err;
        } finally {
          endPause();
          signal.removeEventListener("abort", stopTurn);
          // Its transcript is taken next (a session's): nothing of the job may run by then.
          await proc.close();
        }
      }
    } catch (err) {
      const handBack = signal.aborted && signal.reason === HAND_BACK;
      if (handBack && !cliStarted) {
        // Nothing of it ran: another replica runs it, under a new queue message.
        await handBackJob(deps, job);
        publish({ type: "status", status: "queued" });
        handedBack = true;
        log.info({ jobId: job.id }, "job handed back to the queue");
        return;
      }
      outcome = handBack ? executorStoppedOutcome(deps.executorId) : failureOutcome(err);
      if (outcome.reason === "internal") log.error({ jobId: job.id, err }, "job failed on an internal error");
      const result = (err as { result?: Parameters<typeof tokenUsage>[0] }).result;
      if (result) {
        outcome = { ...outcome, usage: tokenUsage(result), costUsd: result.total_cost_usd };
        spend = spendByModel(result, job.model);
      }
      await planWritten();
      publish({ type: "error", reason: outcome.reason, message: outcome.message });
    } finally {
      // A job's processes are reaped before its end is recorded: nothing it started outlives it.
      // A prewarmed process ran a no-tools turn (it can start nothing) and has printed its result,
      // so its job is recorded first and its process, sandbox and checkout removed right after,
      // off the reply's path (the job's executor slot is held until then).
      if (!prewarmed || handedBack) await cleanup();
    }

    outcome = await replyByRef(deps, job, outcome);
    try {
      // The outcome is known here: keep trying to record it while the store is away (the message
      // stays ours meanwhile); should that fail for good, the worker leaves the message unacknowledged,
      // and its redelivery ends the job `executor_lost`: it is never left running.
      const final = await untilStored(
        () =>
          deps.store.update(job.caller, job.id, (r) =>
            finishWithin(r, outcome, deps.clock.now(), deps.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES),
          ),
        { giveUpAfterMs: deps.finalWriteRetryMs ?? 120_000, logger: log, jobId: job.id },
      );
      publish({ type: "status", status: final.status });
      deps.onFinished?.(final, spend);
      log.info(
        {
          jobId: final.id,
          status: final.status,
          reason: final.error?.reason,
          runMs: final.runMs,
          costUsd: final.costUsd,
        },
        "job finished",
      );
    } finally {
      await cleanup();
    }
  };
}

/** The job's whole prompt: in its record, or (too large for one) in the payload store. */
async function promptOf(deps: RunJobDeps, job: JobRecord): Promise<string> {
  const ref = job.promptRef;
  if (!ref) return job.submission.prompt;
  return readPayload(deps, job, ref, "the job's prompt");
}

/**
 * The job's images, in order: inline in its record, or (the gateway's, or too large for the
 * record) in the payload store. One read by reference is checked as the submit checked inline
 * data: a stored object that is not an image the job may send fails it `invalid_request`.
 */
async function imagesOf(deps: RunJobDeps, job: JobRecord): Promise<ImageInput[] | undefined> {
  const images = job.submission.images;
  if (!images?.length) return undefined;
  return Promise.all(
    images.map(async (image, i): Promise<ImageInput> => {
      if (image.data !== undefined) return { mediaType: image.mediaType, data: image.data };
      const data = await readPayload(deps, job, image.ref!, `the job's image ${i}`);
      const problem = imageDataProblem(data);
      if (problem)
        throw new InvalidImageError(`images.${i} (object ${image.ref!.object}): ${problem.message}`);
      return { mediaType: image.mediaType, data };
    }),
  );
}

/** A text the record names, from the payload store (retried while the store is away, up to 30 s). */
async function readPayload(deps: RunJobDeps, job: JobRecord, ref: PayloadRef, what: string): Promise<string> {
  if (!deps.payloads) throw new PayloadUnavailableError(`this executor has no payload store for ${what}`);
  try {
    return await untilStored(() => deps.payloads!.get(ref), {
      giveUpAfterMs: Math.min(deps.finalWriteRetryMs ?? 120_000, 30_000),
      logger: deps.logger,
      jobId: job.id,
      what: `read ${what} from the payload store`,
      retryIf: (err) => (err as Error).name !== "PayloadMissingError",
    });
  } catch (err) {
    throw new PayloadUnavailableError(
      `${what} (${ref.bytes} bytes, object ${ref.object}) could not be read from the payload store: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * A reply too large for the record goes to the payload store, the record keeps its beginning and
 * the reference. Should the store not take it, the outcome stays as it is and `finishWithin` records
 * the job `result_too_large` with its spend.
 */
async function replyByRef(deps: RunJobDeps, job: JobRecord, outcome: FinishOutcome): Promise<FinishOutcome> {
  const maxBytes = deps.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (outcome.status !== "succeeded" || !deps.payloads) return outcome;
  if (finishFits(job, outcome, deps.clock.now(), maxBytes)) return outcome;
  try {
    const ref = await deps.payloads.put(payloadObjects.result(job.id), outcome.result.text);
    return withResultByRef(outcome, ref);
  } catch (err) {
    deps.logger.warn({ jobId: job.id, err }, "the payload store did not take the job's reply");
    return outcome;
  }
}

/**
 * Runs a store write until it succeeds, backing off (250 ms doubling to 5 s) while it fails for
 * any reason but a refused transition (the record moved on: nothing to retry), for at most
 * `giveUpAfterMs`.
 */
async function untilStored<T>(
  write: () => Promise<T>,
  opts: {
    giveUpAfterMs: number;
    logger: Logger;
    jobId: string;
    what?: string;
    retryIf?: (err: unknown) => boolean;
  },
): Promise<T> {
  const deadline = Date.now() + opts.giveUpAfterMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await write();
    } catch (err) {
      if (err instanceof InvalidTransitionError || Date.now() + delay > deadline) throw err;
      if (opts.retryIf && !opts.retryIf(err)) throw err;
      opts.logger.warn(
        { jobId: opts.jobId, err: (err as Error).message },
        `could not ${opts.what ?? "record the job's end"}; retrying`,
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * Returns a job whose CLI never started to the queue: its record `queued` under a new token, then
 * its new message. Should the publish fail (NATS going away with this replica), the record waits
 * unconfirmed and a sweep on another replica publishes it.
 */
async function handBackJob(deps: RunJobDeps, job: JobRecord): Promise<void> {
  const token = randomUUID();
  try {
    const back = await deps.store.update(job.caller, job.id, (r) =>
      r.status === "running" ? requeueJob(r, token, deps.clock.now()) : r,
    );
    if (back.status !== "queued" || back.queueToken !== token) return;
    await deps.queue.enqueue({ id: job.id, caller: job.caller, token });
    await deps.store.update(job.caller, job.id, (r) => markEnqueued(r, token, deps.clock.now()));
  } catch (err) {
    deps.logger.warn({ jobId: job.id, err }, "could not hand the job back fully; a sweep re-enqueues it");
  }
}

async function restoreTranscript(
  deps: RunJobDeps,
  sessionId: string,
  box: JobSandbox,
  cwd: string,
): Promise<void> {
  const staged = join(box.staging, "restore.jsonl");
  const restored = await deps.transcripts.restore(sessionId, staged).catch((err: unknown) => {
    deps.logger.warn({ sessionId, err }, "could not restore the session transcript");
    return false;
  });
  if (!restored) {
    // Not stored (or the store is down): the copy an earlier job on this replica left will do.
    const cached = await findTranscript(deps.claudeConfigDir, sessionId);
    if (!cached) {
      deps.logger.info({ sessionId }, "no transcript found for the session to resume");
      return;
    }
    await copyFile(cached, staged);
  }
  await box.placeFile(staged, transcriptPath(box.configDir, cwd, sessionId));
}

/**
 * Stores the transcript the job's CLI wrote. The file lies in the agent's home: the sandbox hands it
 * out only once nothing of the job runs any more and no component of its path is a planted link.
 */
async function saveTranscript(
  deps: RunJobDeps,
  sessionId: string,
  box: JobSandbox,
  cwd: string,
): Promise<void> {
  const staged = join(box.staging, "save.jsonl");
  const problem = await box.takeFile(transcriptPath(box.configDir, cwd, sessionId), staged);
  if (problem) {
    deps.logger.warn({ sessionId, problem }, "not storing the session transcript");
    return;
  }
  const cached = transcriptPath(deps.claudeConfigDir, cwd, sessionId);
  await mkdir(dirname(cached), { recursive: true, mode: 0o700 })
    .then(() => copyFile(staged, cached))
    .catch((err: unknown) =>
      deps.logger.warn({ sessionId, err }, "could not keep a local copy of the transcript"),
    );
  await deps.transcripts
    .save(sessionId, staged)
    .catch((err: unknown) =>
      deps.logger.warn(
        { sessionId, err },
        "could not store the session transcript; resume works on this replica only",
      ),
    );
}
