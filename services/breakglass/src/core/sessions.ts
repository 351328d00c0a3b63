import { type AssistantEntry, assistantEntry } from "./history.js";
import type { TurnLog } from "./turn-log.js";
import type { HistoryEntry, PermissionDecision, SessionView } from "./wire.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isSessionId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** A prompt waiting for the operator; `settle` answers it once (false if it was already over). */
export interface PendingPrompt {
  command: string;
  settle(decision: PermissionDecision, by: string | null, note?: string): boolean;
}

export interface RunningTurn {
  log: TurnLog;
  /** The operator's open prompts, by permission id. */
  prompts: Map<string, PendingPrompt>;
  controller: AbortController;
  /** Settles when the turn is over (its `done` was pushed). */
  settled: Promise<void>;
}

export interface Session {
  /** Also the CLI's session id (`--session-id` first, `--resume` after). */
  readonly id: string;
  readonly owner: string;
  readonly createdAt: Date;
  updatedAt: Date;
  history: HistoryEntry[];
  /** The running turn, or the last one (finished) for clients that reattach. */
  turn?: RunningTurn;
}

export function isRunning(s: Session): boolean {
  return s.turn !== undefined && !s.turn.log.finished;
}

export function sessionView(s: Session): SessionView {
  return {
    id: s.id,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    running: isRunning(s),
    lastSeq: s.turn?.log.lastSeq ?? -1,
    history: s.history,
  };
}

export type CreateOutcome =
  | { ok: true; session: Session; created: boolean }
  | { ok: false; reason: "taken" | "full" };

/**
 * Chat sessions, in memory: one replica, and a restart forgets them (the CLI's transcripts stay
 * under HOME, so a client that re-creates its session with the same id resumes the conversation).
 * A session is visible to its owner only. Pure state: time comes from `now`.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: { maxSessions: number; now: () => Date; mintId: () => string }) {}

  get size(): number {
    return this.sessions.size;
  }

  /**
   * A new session, or the caller's existing one with the requested id (idempotent, and how a
   * client adopts a session after a restart). Evicts the longest-idle sessions over the limit.
   */
  create(owner: string, requestedId?: string): CreateOutcome {
    const id = requestedId ?? this.opts.mintId();
    const existing = this.sessions.get(id);
    if (existing) {
      return existing.owner === owner ? { ok: true, session: existing, created: false } : fail("taken");
    }
    if (this.sessions.size >= this.opts.maxSessions && !this.evictIdle()) return fail("full");
    const now = this.opts.now();
    const session: Session = { id, owner, createdAt: now, updatedAt: now, history: [] };
    this.sessions.set(id, session);
    return { ok: true, session, created: true };
  }

  /** The owner's session; someone else's is as absent as a missing one. */
  get(id: string, owner: string): Session | undefined {
    const s = this.sessions.get(id);
    return s && s.owner === owner ? s : undefined;
  }

  list(owner: string): Session[] {
    return [...this.sessions.values()].filter((s) => s.owner === owner);
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  /** Records the user's message and opens the assistant's entry of a new turn. */
  beginTurn(s: Session, prompt: string, turn: RunningTurn): AssistantEntry {
    const at = this.opts.now();
    s.history.push({ role: "user", text: prompt, at: at.toISOString() });
    const entry = assistantEntry(at.toISOString());
    s.history.push(entry);
    s.turn = turn;
    s.updatedAt = at;
    return entry;
  }

  touch(s: Session): void {
    s.updatedAt = this.opts.now();
  }

  private evictIdle(): boolean {
    let oldest: Session | undefined;
    for (const s of this.sessions.values()) {
      if (isRunning(s)) continue;
      if (!oldest || s.updatedAt < oldest.updatedAt) oldest = s;
    }
    if (!oldest) return false;
    this.sessions.delete(oldest.id);
    return true;
  }
}

const fail = (reason: "taken" | "full"): CreateOutcome => ({ ok: false, reason });
