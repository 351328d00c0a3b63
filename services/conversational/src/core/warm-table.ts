/**
 * Which warm CLI processes a replica keeps: the decisions, without processes or clocks. The
 * adapter (`../warm.ts`) starts and closes the processes these choose.
 */

/** What is known of one live process. */
export interface WarmEntry {
  /** The conversation whose turns it serves; undefined for a prewarmed one awaiting a first message. */
  conversationId: string | undefined;
  /** The model it was started with (the pool key of a prewarmed process). */
  model: string;
  /** Running a turn (or being handed to one): never closed by the table. */
  busy: boolean;
  /** When it was started (ms). */
  startedAt: number;
  /** When its last turn ended, or its start for a prewarmed process (ms). */
  lastUsedAt: number;
}

export interface WarmLimits {
  /** A conversation's process idle this long is closed. */
  idleMs: number;
  /** A prewarmed process this old is recycled (closed; the pool refills). */
  poolMaxAgeMs: number;
}

/** Idle processes to close now: conversations idle past `idleMs`, prewarmed ones past their age. */
export function expired<T extends WarmEntry>(entries: Iterable<T>, now: number, limits: WarmLimits): T[] {
  const out: T[] = [];
  for (const e of entries) {
    if (e.busy) continue;
    if (
      e.conversationId === undefined
        ? now - e.startedAt >= limits.poolMaxAgeMs
        : now - e.lastUsedAt >= limits.idleMs
    )
      out.push(e);
  }
  return out;
}

/**
 * The process to close when every slot is held and a turn needs one: a prewarmed process first
 * (the pool refills when there is room; it holds no one's context), else the conversation idle
 * longest. None when every process is running a turn.
 */
export function evictionVictim<T extends WarmEntry>(entries: Iterable<T>): T | undefined {
  let victim: T | undefined;
  const rank = (e: T) => (e.conversationId === undefined ? 0 : 1);
  for (const e of entries) {
    if (e.busy) continue;
    if (
      victim === undefined ||
      rank(e) < rank(victim) ||
      (rank(e) === rank(victim) && e.lastUsedAt < victim.lastUsedAt)
    )
      victim = e;
  }
  return victim;
}

/** The models new conversations used lately, most recent first, at most `max` (the pool's keys). */
export function touchModel(models: readonly string[], model: string, max: number): string[] {
  return [model, ...models.filter((m) => m !== model)].slice(0, Math.max(0, max));
}

/**
 * Which prewarmed processes to start now: for each pool model, as many as it lacks of `size`
 * (counting idle prewarmed processes of that model), most recently used model first, no more than
 * the free slots. Models no longer in the list get none (their processes age out).
 */
export function poolShortfall(
  entries: Iterable<WarmEntry>,
  models: readonly string[],
  size: number,
  freeSlots: number,
): string[] {
  const have = new Map<string, number>();
  for (const e of entries) {
    // A pooled process handed to a new conversation's first turn still counts until that turn ends:
    // its replacement's start-up would compete with the turn for CPU.
    if (e.conversationId === undefined) have.set(e.model, (have.get(e.model) ?? 0) + 1);
  }
  const out: string[] = [];
  for (const model of models) {
    for (let n = have.get(model) ?? 0; n < size && out.length < freeSlots; n++) out.push(model);
  }
  return out;
}
