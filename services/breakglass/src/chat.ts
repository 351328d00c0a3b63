import { randomUUID } from "node:crypto";
import { ClaudeError, type ModelSpend, type ResultEvent, spendByModel } from "@claude-gateway/claude";
import { errorBody, type Logger, settlesWithin, toServiceError } from "@claude-gateway/service-kit";
import { createChatTranslator } from "./core/chat-events.js";
import { classifyToolCall, DEFAULT_READONLY_COMMANDS } from "./core/command-gate.js";
import { applyEvent } from "./core/history.js";
import {
  isRunning,
  type RunningTurn,
  type Session,
  type SessionTable,
  sessionView,
} from "./core/sessions.js";
import { TurnLog } from "./core/turn-log.js";
import type { ChatEvent, PermissionDecision, SessionView } from "./core/wire.js";
import { ConflictError, NotFoundError, TooManyTurnsError } from "./errors.js";
import type { ClaudeTurns, ToolPermissionAnswer, ToolPermissionRequest } from "./ports.js";

export interface ChatDeps {
  turns: ClaudeTurns;
  sessions: SessionTable;
  maxConcurrentTurns: number;
  logger: Logger;
  /** VM commands that run without asking (exact remote commands). */
  readOnlyCommands?: readonly string[];
  /** How long a prompt waits for the operator before it counts as a deny (default 300 s). */
  promptTimeoutMs?: number;
  now?: () => Date;
  onTurnStarted?: () => void;
  onTurnFinished?: (caller: string, outcome: string, wallSeconds: number, spend: ModelSpend[]) => void;
}

export type ChatService = ReturnType<typeof createChatService>;

/**
 * Sessions and their turns: one turn at a time per session (409 otherwise), a global cap on
 * running CLIs (429), each turn's events kept for clients that reattach, and history folded from
 * the same events.
 */
export function createChatService(deps: ChatDeps) {
  const { sessions, turns, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const readOnly = deps.readOnlyCommands ?? DEFAULT_READONLY_COMMANDS;
  const promptTimeoutMs = deps.promptTimeoutMs ?? 300_000;
  let running = 0;

  /**
   * The human gate: read-only commands are allowed at once, what the agent may never run is
   * refused at once, and everything else becomes a `permission` event that waits for the owner's
   * answer (or the timeout, a deny). Every decision is logged with the exact command.
   */
  const gate =
    (s: Session, turn: RunningTurn, emit: (e: ChatEvent) => void) =>
    (req: ToolPermissionRequest): Promise<ToolPermissionAnswer> => {
      const verdict = classifyToolCall(req.toolName, req.input, readOnly);
      const command = String(
        (req.input as { command?: unknown } | null)?.command ?? JSON.stringify(req.input),
      );
      const audit = (decision: PermissionDecision | "refused", by: string | null, extra: object = {}) =>
        logger.info(
          {
            sessionId: s.id,
            owner: s.owner,
            tool: req.toolName,
            command,
            decision,
            by,
            at: now().toISOString(),
            ...extra,
          },
          "permission decided",
        );
      if (verdict.kind === "refused") {
        audit("refused", "service", { reason: verdict.reason });
        return Promise.resolve({ behavior: "deny", message: `Refused: ${verdict.reason}.` });
      }
      if (verdict.kind === "read-only") {
        audit("allow", "read-only list");
        return Promise.resolve({ behavior: "allow" });
      }
      const id = randomUUID();
      const seconds = Math.round(promptTimeoutMs / 1000);
      const expiresAt = new Date(now().getTime() + promptTimeoutMs).toISOString();
      return new Promise<ToolPermissionAnswer>((resolve) => {
        let over = false;
        const finish = (decision: PermissionDecision, by: string | null, note?: string) => {
          if (over) return false;
          over = true;
          clearTimeout(timer);
          turn.prompts.delete(id);
          audit(decision, by, { permissionId: id, risk: verdict.risk, ...(note ? { note } : {}) });
          if (!turn.log.finished)
            emit({ type: "permission_decision", id, decision, by, ...(note ? { note } : {}) });
          if (decision === "allow") {
            resolve({ behavior: "allow" });
            return true;
          }
          const message =
            decision === "timeout"
              ? `No answer from the operator within ${seconds} s: not run. Do not retry it unasked; explain what you need and why.`
              : decision === "cancelled"
                ? "The turn was stopped: not run."
                : `The operator denied this command: not run.${note ? ` Their note: ${note}` : ""}`;
          resolve({ behavior: "deny", message });
          return true;
        };
        const timer = setTimeout(() => finish("timeout", null), promptTimeoutMs);
        turn.prompts.set(id, { command, settle: (d, by, note) => finish(d, by, note) });
        // A stopped turn must not leave the operator a prompt nobody waits for.
        turn.controller.signal.addEventListener("abort", () => finish("cancelled", null), { once: true });
        logger.info(
          { sessionId: s.id, owner: s.owner, permissionId: id, command, risk: verdict.risk },
          "permission asked",
        );
        emit({ type: "permission", id, command, risk: verdict.risk, expiresAt });
      });
    };

  const owned = (id: string, owner: string): Session => {
    const s = sessions.get(id, owner);
    if (!s) throw new NotFoundError("session_not_found", `no session ${id}`);
    return s;
  };

  const execute = async (s: Session, prompt: string, turn: RunningTurn, emit: (e: ChatEvent) => void) => {
    const started = Date.now();
    let result: ResultEvent | undefined;
    let outcome = "ok";
    try {
      const resume = await turns.hasTranscript(s.id);
      emit({ type: "session", sessionId: s.id, resumed: resume });
      const translate = createChatTranslator();
      const out = await turns.run({
        sessionId: s.id,
        resume,
        prompt,
        signal: turn.controller.signal,
        canUseTool: gate(s, turn, emit),
        onLine: (line) => {
          if (line.type === "result") result = line;
          for (const ev of translate(line)) emit(ev);
        },
      });
      result = out.result;
    } catch (err) {
      const e = toErrorEvent(err);
      outcome = e.error;
      if (err instanceof ClaudeError && err.result) result ??= err.result;
      if (!(err instanceof ClaudeError)) logger.error({ err, sessionId: s.id }, "turn failed unexpectedly");
      emit(e);
    } finally {
      for (const p of [...turn.prompts.values()]) p.settle("cancelled", null);
      emit({ type: "done" });
      running--;
      sessions.touch(s);
      const spend = result ? spendByModel(result, turns.model) : [];
      deps.onTurnFinished?.(s.owner, outcome, (Date.now() - started) / 1000, spend);
      logger.info(
        {
          sessionId: s.id,
          caller: s.owner,
          outcome,
          costUsd: result?.total_cost_usd,
          wallMs: Date.now() - started,
        },
        "turn finished",
      );
    }
  };

  return {
    create(owner: string, requestedId?: string): { view: SessionView; created: boolean } {
      const out = sessions.create(owner, requestedId);
      if (!out.ok) {
        throw out.reason === "taken"
          ? new ConflictError("session_exists", "that session id is taken")
          : new ConflictError("too_many_sessions", "every session is busy; stop a turn first");
      }
      return { view: sessionView(out.session), created: out.created };
    },

    get(id: string, owner: string): SessionView {
      return sessionView(owned(id, owner));
    },

    list(owner: string): SessionView[] {
      return sessions
        .list(owner)
        .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
        .map((s) => ({ ...sessionView(s), history: [] }));
    },

    /** Starts a turn and returns its event log; the turn runs on even if nobody listens. */
    startTurn(id: string, owner: string, prompt: string): TurnLog {
      const s = owned(id, owner);
      if (isRunning(s)) throw new ConflictError("turn_running", "a turn is already running in this session");
      if (running >= deps.maxConcurrentTurns) throw new TooManyTurnsError(deps.maxConcurrentTurns);
      running++;
      deps.onTurnStarted?.();
      const log = new TurnLog();
      let settle!: () => void;
      const turn: RunningTurn = {
        log,
        prompts: new Map(),
        controller: new AbortController(),
        settled: new Promise<void>((r) => {
          settle = r;
        }),
      };
      const entry = sessions.beginTurn(s, prompt, turn);
      const emit = (ev: ChatEvent) => {
        applyEvent(entry, ev);
        log.push(ev);
      };
      void execute(s, prompt, turn, emit).finally(settle);
      return log;
    },

    /**
     * The owner's answer to a prompt of the running turn. Someone else's session, an unknown
     * prompt or one already over (answered, timed out, turn ended) is a 404.
     */
    answerPermission(
      id: string,
      owner: string,
      permissionId: string,
      decision: "allow" | "deny",
      note?: string,
    ) {
      const s = owned(id, owner);
      const prompt = s.turn?.prompts.get(permissionId);
      if (!prompt?.settle(decision, owner, note))
        throw new NotFoundError("permission_not_found", `no open permission prompt ${permissionId}`);
      return { id: permissionId, decision };
    },

    /** The running or last turn's log, for a client that reattaches. */
    currentTurn(id: string, owner: string): TurnLog {
      const s = owned(id, owner);
      if (!s.turn) throw new NotFoundError("no_turn", "this session has no turn yet");
      return s.turn.log;
    },

    /** Stops the running turn (SIGINT to the CLI, then its process group). */
    stopTurn(id: string, owner: string): void {
      const s = owned(id, owner);
      if (!isRunning(s) || !s.turn) throw new ConflictError("no_turn_running", "no turn is running");
      s.turn.controller.abort(`stopped by ${owner}`);
    },

    get running(): number {
      return running;
    },

    /** Shutdown: lets running turns finish for `graceMs`, then stops the rest and waits for them. */
    async drain(graceMs: number): Promise<void> {
      const live = sessions.all().flatMap((s) => (isRunning(s) && s.turn ? [s.turn] : []));
      if (live.length === 0) return;
      const all = Promise.all(live.map((t) => t.settled));
      if (!(await settlesWithin(all, graceMs))) {
        for (const t of live) t.controller.abort("the service is shutting down");
        await all;
      }
    },
  };
}

/** A failed turn's `error` event: the envelope `app.onError` would answer, and whether to retry. */
function toErrorEvent(err: unknown): Extract<ChatEvent, { type: "error" }> {
  return {
    type: "error",
    ...errorBody(toServiceError(err)),
    retryable: err instanceof ClaudeError && err.retryable,
  };
}
