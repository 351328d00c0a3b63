import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import type { AgentSpec } from "@claude-gateway/agents";
import {
  ClaudeCrashedError,
  type FileSnapshot,
  type ModelSpend,
  type RateLimitRunEvent,
  type ResultEvent,
  type RunResult,
  sha256File,
  snapshotFile,
  spendByModel,
  tokenUsage,
  transcriptPath,
  translateLine,
  type WarmProcess,
} from "@claude-gateway/claude";
import { type ConversationalReply, type ModelPolicy, resolveModel } from "@claude-gateway/contracts";
import type { PlanStore, PolicyGate, Ticket } from "@claude-gateway/policy";
import {
  type Logger,
  ServiceError,
  settlesWithin,
  silentLogger,
  toServiceError,
} from "@claude-gateway/service-kit";
import { type ConversationRecord, newRecord, ownedBy, recordTurn } from "./core/record.js";
import { SentenceSplitter } from "./core/sentences.js";
import type { TurnSlots } from "./core/slots.js";
import { chooseModel, planTurn, type TurnPlan, type TurnRequest } from "./core/turn.js";
import { ConversationNotFoundError } from "./errors.js";
import type { ClaudeRunner, Clock, ConversationLock, ConversationStore, TranscriptStore } from "./ports.js";
import type { WarmProcesses } from "./warm-processes.js";

export interface ConversationDeps {
  store: ConversationStore;
  lock: ConversationLock;
  transcripts: TranscriptStore;
  runClaude: ClaudeRunner;
  /** The conversational agent (no tools). */
  agent: AgentSpec;
  models: ModelPolicy;
  /** The one working directory of every turn on every replica: `--resume` looks up sessions by cwd. */
  cwd: string;
  /** `$CLAUDE_CONFIG_DIR` or `$HOME/.claude` of the CLI: where its transcripts live. */
  claudeConfigDir: string;
  /** The environment the CLI's variables come from (its login, HOME, API URL…). */
  claudeEnv: Readonly<Record<string, string | undefined>>;
  /** Wall-clock limit of one CLI run. */
  timeoutMs: number;
  clock?: Clock;
  mintId?: () => string;
  logger?: Logger;
  bin?: string;
  killGraceMs?: number;
  /** Every finished turn, for metrics (failed ones too: they may have spent credit). */
  onTurn?: (turn: TurnReport) => void;
  /**
   * The subscription plan's shared record: told what every turn's CLI reports of the plan's
   * utilisation (OAuth logins only), so every replica's admission knows when it is at its limit.
   */
  plan?: Pick<PlanStore, "record">;
  /** The caller policy: admits each turn (403/429), caps its budget, and is told its spend. */
  gate: Pick<PolicyGate, "admit" | "recordSpend">;
  /** How long a turn's in-flight lease holds if this replica dies before releasing it. */
  leaseMs: number;
  /** This replica's CLI processes: at most so many at once, the rest wait briefly in line. */
  slots: TurnSlots;
  /**
   * Warm CLI processes (one per active conversation, and a prewarmed pool). With them every turn
   * runs in a long-lived process (started cold when none is warm); without, each turn is a
   * one-shot `claude -p` (`runClaude`).
   */
  warm?: WarmProcesses;
  /** This replica's id: recorded as the holder of a conversation's warm process, for forwarding. */
  replicaId?: string;
}

export interface TurnReport {
  /** The principal. */
  caller: string;
  kind: "new" | "resume" | "unknown";
  model: string | undefined;
  /** `ok`, or the error code the caller got. */
  outcome: string;
  durationMs: number;
  /** From the start of the turn to its first sentence. */
  firstSentenceMs: number | undefined;
  /** Which process ran it: the conversation's warm one, a prewarmed one, or one started for it. */
  start: "warm" | "pool" | "cold";
  spend: ModelSpend[];
}

export interface TurnHooks {
  /** Each complete sentence of the reply, as soon as it is known (for speech synthesis). */
  onSentence?: (sentence: string) => void;
}

export interface ConversationService {
  /** One turn on behalf of `caller` (a principal), who may continue only its own conversations. */
  turn(request: TurnRequest, caller: string, hooks?: TurnHooks): Promise<ConversationalReply>;
  /** Turns running now. */
  readonly active: number;
  /** Refuses new turns, lets running ones finish for `graceMs`, then cancels the rest. */
  shutdown(graceMs: number): Promise<void>;
}

export class ShuttingDownError extends ServiceError {
  override name = "ShuttingDownError";
  constructor() {
    super(503, "shutting_down", "the service is shutting down; retry on another replica");
  }
}

/** This replica lost the conversation's lock mid-turn: another one runs its turns now. */
const takenOver = () =>
  new ServiceError(
    503,
    "conversation_taken_over",
    "another replica took this conversation over while this turn ran (this one could not renew its lock); retry",
  );

/** The turn logic over injected ports: lock, state, transcripts, the CLI. */
export function createConversationService(deps: ConversationDeps): ConversationService {
  const log = deps.logger ?? silentLogger;
  const clock = deps.clock ?? { now: () => new Date() };
  const mintId = deps.mintId ?? randomUUID;
  const running = new Set<{ controller: AbortController; done: Promise<unknown> }>();
  /** New conversations' transcript uploads under way, by conversation: their next turn waits. */
  const uploads = new Map<string, Promise<void>>();
  /** Transcript uploads and lock releases still under way after their replies went out. */
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  let closing = false;
  /** A report of the plan's utilisation: written off the turn's path (the reply never waits for it). */
  const recordPlan = (reading: RateLimitRunEvent) => {
    if (!deps.plan) return;
    track(
      deps.plan
        .record(reading, clock.now())
        .catch((err: unknown) => log.warn({ err }, "could not record the plan's utilisation")),
    );
  };

  async function turn(
    request: TurnRequest,
    caller: string,
    hooks: TurnHooks,
    controller: AbortController,
  ): Promise<ConversationalReply> {
    const signal = controller.signal;
    const started = performance.now();
    const report: TurnReport = {
      caller,
      kind: request.conversationId === undefined ? "new" : "resume",
      model: undefined,
      outcome: "ok",
      durationMs: 0,
      firstSentenceMs: undefined,
      start: "cold",
      spend: [],
    };
    let ticket: Ticket | undefined;
    let costUsd = 0;
    try {
      // An unsupported model is the caller's mistake: say so before waiting on anything.
      if (request.model !== undefined) resolveModel(deps.models, request.model);
      const id = request.conversationId;
      // Another caller's conversation answers at once, as if it did not exist.
      const known = id === undefined ? null : await deps.store.get(id);
      if (id !== undefined && known !== null && !ownedBy(known, caller))
        throw new ConversationNotFoundError(id);

      // Admitted by the caller's policy for this model before anything waits or runs; the model is
      // then fixed for the turn, so what runs is what was admitted.
      const model = chooseModel(deps.models, request.model, known?.model, deps.agent.model);
      report.model = model;
      ticket = await deps.gate.admit(caller, { agent: deps.agent.name, model, leaseMs: deps.leaseMs });
      const admitted: TurnRequest = { ...request, model };
      const maxBudgetUsd = ticket.capBudget(undefined);

      if (id === undefined) {
        // No lock guards a conversation under a new service-minted id. Kept warm here, its next
        // turn comes here (the record says so; other replicas forward it) and waits for the upload
        // below; otherwise its transcript is stored before the reply, for any replica to find.
        const { reply, after, kept } = await run(admitted, null, maxBudgetUsd);
        if (!kept) await after;
        else {
          const id = reply.conversation_id;
          uploads.set(id, after);
          track(after.finally(() => uploads.get(id) === after && uploads.delete(id)));
        }
        return reply;
      }
      // Caller-minted ids are claimed under the lock too, so two first turns cannot both start one.
      const release = await deps.lock.acquire(id, signal);
      // Another replica took the conversation over (this one was cut off past the lock's lease):
      // stop, and write nothing.
      const lost = release.lost;
      const onLost = () => controller.abort(takenOver());
      lost?.addEventListener("abort", onLost, { once: true });
      let after: Promise<void> = Promise.resolve();
      try {
        // A first turn's transcript may still be on its way to the store.
        await uploads.get(id);
        // Read again under the lock: the turn before ours may have changed (or created) it.
        const stored = await deps.store.get(id);
        if (stored !== null && !ownedBy(stored, caller)) throw new ConversationNotFoundError(id);
        const ran = await run(admitted, stored, maxBudgetUsd);
        after = ran.after;
        return ran.reply;
      } catch (err) {
        throw lost?.aborted ? takenOver() : err;
      } finally {
        lost?.removeEventListener("abort", onLost);
        // The reply goes out first; the conversation's next turn waits for the transcript's upload.
        const released = after
          .then(() => release())
          .catch((err: unknown) =>
            log.warn({ conversationId: id, err }, "could not release the conversation lock"),
          );
        track(released);
      }
    } catch (err) {
      report.outcome = toServiceError(err).code;
      const result = (err as { result?: ResultEvent }).result;
      if (result) {
        report.spend = spendByModel(result, report.model ?? "unknown");
        costUsd = result.total_cost_usd;
      }
      throw err;
    } finally {
      // Before the answer: the caller's next turn, on any replica, sees this spend and the lease back.
      await Promise.all([
        costUsd > 0
          ? deps.gate
              .recordSpend(caller, costUsd)
              .catch((err: unknown) =>
                log.error({ caller, costUsd, err }, "could not record the turn's spend"),
              )
          : undefined,
        ticket
          ?.release()
          .catch((err: unknown) => log.warn({ caller, err }, "could not release the turn's in-flight lease")),
      ]);
      report.durationMs = performance.now() - started;
      deps.onTurn?.(report);
    }

    async function run(
      request: TurnRequest,
      stored: ConversationRecord | null,
      maxBudgetUsd: number | undefined,
    ): Promise<{ reply: ConversationalReply; after: Promise<void>; kept: boolean }> {
      if (deps.warm) return runWarm(deps.warm, request, stored);
      const plan = planTurn({ request, stored, agent: deps.agent, models: deps.models, mintId });
      report.kind = plan.kind;
      const path = transcriptPath(deps.claudeConfigDir, deps.cwd, plan.sessionId);
      if (stored) await ensureTranscript(plan, path, stored.transcriptSha256);

      // A CLI process holds hundreds of MB: only so many run at once on this replica.
      const freeSlot = await deps.slots.acquire(signal);
      let out: RunResult;
      try {
        out = await runCli(plan, maxBudgetUsd);
      } finally {
        freeSlot();
      }
      report.spend = spendByModel(out.result, plan.model);
      costUsd = out.costUsd;

      signal.throwIfAborted();
      const snapshot = await snapshotTranscript(plan, path);
      if (snapshot) await saveTranscript(plan, snapshot);
      const completed = {
        sessionId: out.sessionId,
        model: plan.model,
        at: clock.now(),
        transcriptSha256: snapshot?.sha256,
      };
      if (stored) await deps.store.put(recordTurn(stored, completed));
      else await deps.store.create(newRecord(plan.conversationId, caller, completed));
      log.info(
        {
          conversationId: plan.conversationId,
          sessionId: out.sessionId,
          kind: plan.kind,
          caller,
          model: plan.model,
          costUsd: out.costUsd,
          wallMs: out.wallMs,
        },
        "turn finished",
      );
      return { reply: replyOf(plan, out), after: Promise.resolve(), kept: false };
    }

    function replyOf(plan: TurnPlan, out: RunResult): ConversationalReply {
      return {
        conversation_id: plan.conversationId,
        reply: out.text,
        session_id: out.sessionId,
        model: plan.model,
        usage: { ...tokenUsage(out.result), costUsd: out.costUsd },
        duration_ms: Math.round(performance.now() - started),
      };
    }

    /**
     * The turn in a long-lived process: the conversation's warm one, else a prewarmed one for a new
     * conversation, else one started now (resuming the stored session). It stays warm afterwards.
     */
    async function runWarm(
      warm: WarmProcesses,
      request: TurnRequest,
      stored: ConversationRecord | null,
    ): Promise<{ reply: ConversationalReply; after: Promise<void>; kept: boolean }> {
      // The admitted request names its model.
      const model = request.model ?? chooseModel(deps.models, undefined, stored?.model, deps.agent.model);
      const pooled = stored ? undefined : warm.takePooled(model);
      const plan = planTurn({
        request,
        stored,
        agent: deps.agent,
        models: deps.models,
        mintId,
        pooledSessionId: pooled?.sessionId,
      });
      report.kind = plan.kind;
      const path = transcriptPath(deps.claudeConfigDir, deps.cwd, plan.sessionId);
      let proc: WarmProcess | undefined =
        pooled ?? (stored ? warm.take(plan.conversationId, stored.turns) : undefined);
      report.start = pooled ? "pool" : proc ? "warm" : "cold";
      if (proc && stored && stored.model !== plan.model) {
        // The process runs the conversation's model; the CLI switches in place, history kept.
        try {
          await proc.setModel(plan.model, deps.timeoutMs);
        } catch (err) {
          log.warn({ conversationId: plan.conversationId, err }, "set_model failed; starting a process");
          warm.discard(proc);
          proc = undefined;
          report.start = "cold";
        }
      }
      const cold = async () => {
        if (stored) await ensureTranscript(plan, path, stored.transcriptSha256);
        return warm.spawn(plan.invocation, signal);
      };
      proc ??= await cold();

      let sentences = 0;
      const splitter = new SentenceSplitter();
      const emit = (list: string[]) => {
        for (const sentence of list) {
          sentences++;
          report.firstSentenceMs ??= performance.now() - started;
          try {
            hooks.onSentence?.(sentence);
          } catch (err) {
            log.warn({ err }, "sentence listener failed");
          }
        }
      };
      const once = (p: WarmProcess) =>
        p.turn({
          prompt: plan.prompt,
          timeoutMs: deps.timeoutMs,
          signal,
          onEvent: (line) => {
            for (const ev of translateLine(line)) {
              if (ev.type === "text_delta") emit(splitter.push(ev.text));
              else if (ev.type === "stream_event" && ev.event.type === "message_stop") emit(splitter.flush());
              else if (ev.type === "rate_limit") recordPlan(ev);
            }
          },
        });
      let out: RunResult;
      try {
        out = await once(proc);
      } catch (err) {
        warm.discard(proc);
        // A warm process that died is replaced by a cold resume, unless the caller already heard part
        // of the reply (it cannot be taken back) or the turn was cancelled.
        if (
          report.start === "cold" ||
          !(err instanceof ClaudeCrashedError) ||
          sentences > 0 ||
          signal.aborted
        )
          throw err;
        log.warn({ conversationId: plan.conversationId, err }, "the warm CLI process died; resuming cold");
        report.start = "cold";
        proc = await cold();
        try {
          out = await once(proc);
        } catch (again) {
          warm.discard(proc);
          throw again;
        }
      }
      emit(splitter.flush());
      report.spend = spendByModel(out.result, plan.model);
      costUsd = out.costUsd;

      // The process lives on and may write more to the transcript: the record names, and the
      // store gets, this one snapshot of it.
      const snapshot = await snapshotTranscript(plan, path);
      // Removed here if the turn fails before the snapshot is stored (`after`).
      const dropSnapshot = async (err: unknown): Promise<never> => {
        if (snapshot) await rm(snapshot.path, { force: true });
        throw err;
      };
      const transcriptSha256 = snapshot?.sha256;
      // Kept warm with the turns its history holds; a record write that fails below leaves them
      // different, and the next turn starts afresh from the stored transcript.
      const turns = (stored?.turns ?? 0) + 1;
      let kept = false;
      if (signal.aborted) {
        warm.discard(proc);
        await dropSnapshot(signal.reason);
      }
      if (out.budgetCapReached) warm.discard(proc);
      else kept = warm.keep(proc, plan.conversationId, turns);
      const completed = {
        sessionId: out.sessionId,
        model: plan.model,
        at: clock.now(),
        transcriptSha256,
        ...(kept && deps.replicaId !== undefined ? { warmOn: deps.replicaId } : {}),
      };
      const record = stored
        ? recordTurn(stored, completed)
        : newRecord(plan.conversationId, caller, completed);
      await (stored ? deps.store.put(record) : deps.store.create(record)).catch(dropSnapshot);
      log.info(
        {
          conversationId: plan.conversationId,
          sessionId: out.sessionId,
          kind: plan.kind,
          start: report.start,
          caller,
          model: plan.model,
          costUsd: out.costUsd,
          wallMs: out.wallMs,
        },
        "turn finished",
      );
      const after = snapshot ? saveTranscript(plan, snapshot) : Promise.resolve();
      return { reply: replyOf(plan, out), after, kept };
    }

    /** The CLI run of the turn, its sentences passed on as soon as each is complete. */
    async function runCli(plan: TurnPlan, maxBudgetUsd: number | undefined): Promise<RunResult> {
      const splitter = new SentenceSplitter();
      const emit = (sentences: string[]) => {
        for (const sentence of sentences) {
          report.firstSentenceMs ??= performance.now() - started;
          try {
            hooks.onSentence?.(sentence);
          } catch (err) {
            log.warn({ err }, "sentence listener failed");
          }
        }
      };
      const claude = deps.runClaude({
        invocation: maxBudgetUsd === undefined ? plan.invocation : { ...plan.invocation, maxBudgetUsd },
        prompt: plan.prompt,
        cwd: deps.cwd,
        timeoutMs: deps.timeoutMs,
        signal,
        sourceEnv: deps.claudeEnv,
        logger: log,
        ...(deps.bin ? { bin: deps.bin } : {}),
        ...(deps.killGraceMs !== undefined ? { killGraceMs: deps.killGraceMs } : {}),
        onEvent: (line) => {
          for (const ev of translateLine(line)) {
            if (ev.type === "text_delta") emit(splitter.push(ev.text));
            // The end of one API message: nothing can extend its last sentence any more.
            else if (ev.type === "stream_event" && ev.event.type === "message_stop") emit(splitter.flush());
            else if (ev.type === "rate_limit") recordPlan(ev);
          }
        },
      });
      // A reply finished as the caller's budget cap was passed comes back whole (packages/claude).
      const out = await claude.done;
      emit(splitter.flush());
      return out;
    }
  }

  /**
   * Makes the session resumable here: the local transcript is used when it is the one saved after
   * the last turn; a missing or stale one (another replica ran a later turn) is restored.
   */
  async function ensureTranscript(plan: TurnPlan, path: string, expected: string | undefined): Promise<void> {
    const local = await sha256File(path);
    if (local !== undefined && (expected === undefined || local === expected)) return;
    const restored = await deps.transcripts.restore(plan.sessionId, path).catch((err: unknown) => {
      log.warn({ sessionId: plan.sessionId, err }, "could not restore the session transcript");
      return false;
    });
    const context = { conversationId: plan.conversationId, sessionId: plan.sessionId };
    if (!restored) {
      log.warn(
        { ...context, local: local !== undefined },
        local === undefined
          ? "no transcript of the session anywhere: the CLI will not find it"
          : "local transcript is stale and none is stored: resuming from the stale one",
      );
    } else if (expected !== undefined && (await sha256File(path)) !== expected) {
      log.warn(context, "the stored transcript is older than the last turn (its save had failed)");
    }
  }

  /** The transcript as the turn left it (see `snapshotFile`); undefined, and a warning, if none. */
  async function snapshotTranscript(plan: TurnPlan, path: string): Promise<FileSnapshot | undefined> {
    const snapshot = await snapshotFile(path);
    if (!snapshot) log.warn({ sessionId: plan.sessionId, path }, "the CLI left no transcript of the session");
    return snapshot;
  }

  /** Stores a snapshot for other replicas (a failure is logged: the conversation goes on here), then removes it. */
  async function saveTranscript(plan: TurnPlan, snapshot: FileSnapshot): Promise<void> {
    try {
      await deps.transcripts.save(plan.sessionId, snapshot.path);
    } catch (err) {
      log.warn(
        { sessionId: plan.sessionId, err },
        "could not store the session transcript; the conversation continues on this replica only",
      );
    } finally {
      await rm(snapshot.path, { force: true });
    }
  }

  return {
    turn(request, caller, hooks = {}) {
      if (closing) return Promise.reject(new ShuttingDownError());
      const controller = new AbortController();
      const done = turn(request, caller, hooks, controller);
      const entry = { controller, done };
      running.add(entry);
      void done.then(
        () => running.delete(entry),
        () => running.delete(entry),
      );
      return done;
    },
    get active() {
      return running.size;
    },
    async shutdown(graceMs) {
      closing = true;
      const settled = () => Promise.allSettled([...running].map((r) => r.done));
      if (!(await settlesWithin(settled(), graceMs))) {
        log.warn({ active: running.size }, "cancelling turns still running after the shutdown grace");
        for (const r of running) r.controller.abort(new ShuttingDownError());
        await settled();
      }
      await Promise.allSettled([...pending]);
      await deps.warm?.close();
    },
  };
}
