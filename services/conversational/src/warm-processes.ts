import type { NoToolsInvocation, WarmProcess } from "@claude-gateway/claude";
import { type Logger, silentLogger } from "@claude-gateway/service-kit";
import type { FreeSlot, TurnSlots } from "./core/slots.js";
import { evictionVictim, expired, poolShortfall, touchModel, type WarmEntry } from "./core/warm-table.js";

/** What happened to warm processes, for metrics. */
export type WarmEventKind =
  | "hit"
  | "miss"
  | "pool_hit"
  | "ready"
  | "pool_miss"
  | "stale"
  | "evicted"
  | "expired"
  | "started"
  | "failed"
  | "exited";

export interface WarmProcessesOptions {
  /** Starts a CLI process (cwd, environment and binary are the wiring's). */
  start: (invocation: NoToolsInvocation) => WarmProcess;
  /** The invocation of a prewarmed process for new conversations of a model. */
  poolInvocation: (model: string) => NoToolsInvocation;
  /** Every live CLI process of the replica holds one: warm, prewarmed and running alike. */
  slots: TurnSlots;
  maxProcesses: number;
  /** A conversation's process idle this long is closed; 0: closed after every turn. */
  idleMs: number;
  /** Prewarmed processes per model in use; 0: no pool. */
  poolSize: number;
  poolMaxAgeMs: number;
  /** How many models keep a pool (the ones new conversations used most recently). */
  poolMaxModels: number;
  /** The models the pool starts with (the agent's). */
  initialModels?: readonly string[];
  now?: () => number;
  logger?: Logger;
  onEvent?: (kind: WarmEventKind) => void;
}

/** A replica's CLI processes that outlive a turn: one per active conversation, and a prewarmed pool. */
export interface WarmProcesses {
  /**
   * The conversation's process, handed to the caller for one turn, when it is idle and its history
   * is exactly the `recordedTurns` the store has (another replica ran no turn since); a stale one
   * is closed.
   */
  take(conversationId: string, recordedTurns: number): WarmProcess | undefined;
  /** A prewarmed process for a new conversation of `model`, handed over for its first turn. */
  takePooled(model: string): WarmProcess | undefined;
  /**
   * Starts a process for a turn once a slot is free: when every slot is held, the prewarmed or
   * longest idle process is closed to make room; when all run turns, it waits in line (429 after
   * the slots' wait).
   */
  spawn(invocation: NoToolsInvocation, signal?: AbortSignal): Promise<WarmProcess>;
  /**
   * After a successful turn: the process stays warm for the conversation (or closes at once when
   * idleMs is 0, or when a turn waits for its slot). True when it stays.
   */
  keep(process: WarmProcess, conversationId: string, recordedTurns: number): boolean;
  /** A process handed out that will not serve again (failed turn): closed. */
  discard(process: WarmProcess): void;
  /** Conversations with a warm process, prewarmed processes. */
  counts(): { warm: number; pooled: number; busy: number };
  /** Closes every process and stops the pool. */
  close(): Promise<void>;
}

interface Held extends WarmEntry {
  process: WarmProcess;
  /** The conversation's recorded turns its history holds. */
  turns: number;
  closing: boolean;
}

/** How long the pool waits before starting again after a prewarmed process died unclaimed. */
const POOL_BACKOFF_MS = 30_000;

export function createWarmProcesses(opts: WarmProcessesOptions): WarmProcesses {
  const log = opts.logger ?? silentLogger;
  const now = opts.now ?? Date.now;
  const held = new Map<WarmProcess, Held>();
  const byConversation = new Map<string, Held>();
  let poolModels = [...(opts.initialModels ?? [])].slice(0, opts.poolMaxModels);
  let poolPausedUntil = 0;
  let closed = false;
  const event = (kind: WarmEventKind) => opts.onEvent?.(kind);

  const closeHeld = (h: Held, why: WarmEventKind) => {
    if (h.closing) return;
    h.closing = true;
    h.busy = true;
    if (h.conversationId !== undefined && byConversation.get(h.conversationId) === h)
      byConversation.delete(h.conversationId);
    event(why);
    log.debug({ conversationId: h.conversationId, why, pid: h.process.pid }, "closing a warm CLI process");
    void h.process.close();
  };

  /** Starts a process in a slot the caller holds; the slot is freed when the process exits. */
  const adopt = (invocation: NoToolsInvocation, free: FreeSlot, conversationId: string | undefined) => {
    let process: WarmProcess;
    try {
      process = opts.start(invocation);
    } catch (err) {
      free();
      throw err;
    }
    const at = now();
    const h: Held = {
      process,
      conversationId,
      model: invocation.model ?? "",
      busy: conversationId !== undefined,
      startedAt: at,
      lastUsedAt: at,
      turns: 0,
      closing: false,
    };
    held.set(process, h);
    event("started");
    // A process started for the pool says when its CLI reads its input (a bench waits for that).
    if (conversationId === undefined) void process.ready.then((ok) => ok && event("ready"));
    void process.exited.then(() => {
      held.delete(process);
      if (h.conversationId !== undefined && byConversation.get(h.conversationId) === h)
        byConversation.delete(h.conversationId);
      free();
      event("exited");
      if (!h.closing && !h.busy && h.conversationId === undefined && !closed) {
        log.warn({ pid: process.pid }, "a prewarmed CLI process exited unclaimed; pausing the pool");
        poolPausedUntil = now() + POOL_BACKOFF_MS;
      }
      refill();
    });
    return h;
  };

  const refill = () => {
    if (closed || opts.poolSize <= 0 || now() < poolPausedUntil || opts.slots.waiting > 0) return;
    const free = opts.maxProcesses - opts.slots.running;
    for (const model of poolShortfall(held.values(), poolModels, opts.poolSize, free)) {
      // Free slots are granted at once; a turn that queued meanwhile goes first.
      if (opts.slots.running >= opts.maxProcesses || opts.slots.waiting > 0) return;
      void opts.slots.acquire().then(
        (slot) => {
          if (closed) return slot();
          try {
            adopt(opts.poolInvocation(model), slot, undefined);
          } catch (err) {
            log.warn({ err, model }, "could not start a prewarmed CLI process");
            poolPausedUntil = now() + POOL_BACKOFF_MS;
          }
        },
        () => {},
      );
    }
  };

  const sweep = () => {
    for (const h of expired(held.values(), now(), { idleMs: opts.idleMs, poolMaxAgeMs: opts.poolMaxAgeMs }))
      closeHeld(h, "expired");
    refill();
  };
  const period = Math.max(250, Math.min(opts.idleMs || 30_000, opts.poolMaxAgeMs, 30_000) / 4);
  const timer = setInterval(sweep, period);
  timer.unref();
  queueMicrotask(refill);

  return {
    take(conversationId, recordedTurns) {
      const h = byConversation.get(conversationId);
      if (!h || h.busy) {
        event("miss");
        return undefined;
      }
      if (h.process.state !== "idle" || h.turns !== recordedTurns) {
        // Another replica ran a turn since (or the process died): its history is not the record's.
        closeHeld(h, "stale");
        event("miss");
        return undefined;
      }
      h.busy = true;
      event("hit");
      return h.process;
    },
    takePooled(model) {
      poolModels = touchModel(poolModels, model, opts.poolMaxModels);
      for (const h of held.values()) {
        if (h.conversationId === undefined && !h.busy && h.model === model && h.process.state === "idle") {
          // Refilled when this turn ends (`keep`, or the process exits), not now: a start-up
          // beside the turn would slow it down on a small machine.
          h.busy = true;
          event("pool_hit");
          return h.process;
        }
      }
      if (opts.poolSize > 0) event("pool_miss");
      queueMicrotask(refill);
      return undefined;
    },
    async spawn(invocation, signal) {
      if (opts.slots.running >= opts.maxProcesses) {
        const victim = evictionVictim([...held.values()].filter((h) => !h.closing));
        if (victim) closeHeld(victim, "evicted");
      }
      const free = await opts.slots.acquire(signal);
      if (closed) {
        free();
        throw new Error("the warm processes are closed");
      }
      // Busy from the start: the turn that asked for it runs first.
      return adopt(invocation, free, "").process;
    },
    keep(process, conversationId, recordedTurns) {
      const h = held.get(process);
      if (!h) return false;
      if (closed || opts.idleMs <= 0 || process.state !== "idle") {
        closeHeld(h, "expired");
        return false;
      }
      // A turn waits for a slot: it needs this one more than the conversation's next turn does.
      if (opts.slots.waiting > 0) {
        closeHeld(h, "evicted");
        return false;
      }
      const previous = byConversation.get(conversationId);
      if (previous && previous !== h) closeHeld(previous, "stale");
      h.conversationId = conversationId;
      h.turns = recordedTurns;
      h.busy = false;
      h.lastUsedAt = now();
      byConversation.set(conversationId, h);
      refill();
      return true;
    },
    discard(process) {
      const h = held.get(process);
      if (h) closeHeld(h, "failed");
    },
    counts() {
      let warm = 0;
      let pooled = 0;
      let busy = 0;
      for (const h of held.values()) {
        if (h.closing) continue;
        if (h.busy) busy++;
        else if (h.conversationId === undefined) pooled++;
        else warm++;
      }
      return { warm, pooled, busy };
    },
    async close() {
      closed = true;
      clearInterval(timer);
      const all = [...held.values()];
      for (const h of all) closeHeld(h, "expired");
      await Promise.all(all.map((h) => h.process.exited.catch(() => {})));
    },
  };
}
