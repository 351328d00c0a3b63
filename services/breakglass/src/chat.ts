import { ClaudeError, type ModelSpend, type ResultEvent, spendByModel } from "@claude-gateway/claude";
import { errorBody, type Logger, settlesWithin, toServiceError } from "@claude-gateway/service-kit";
import { createChatTranslator } from "./core/chat-events.js";
import { applyEvent } from "./core/history.js";
import {
  isRunning,
  type RunningTurn,
  type Session,
  type SessionTable,
  sessionView,
} from "./core/sessions.js";
import { TurnLog } from "./core/turn-log.js";
import type { ChatEvent, SessionView } from "./core/wire.js";
import { ConflictError, NotFoundError, TooManyTurnsError } from "./errors.js";
import type { ClaudeTurns } from "./ports.js";

export interface ChatDeps {
  turns: ClaudeTurns;
  sessions: SessionTable;
  maxConcurrentTurns: number;
  logger: Logger;
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
  let running = 0;

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
