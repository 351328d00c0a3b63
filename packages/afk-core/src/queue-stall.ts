import type { Issue } from "./types.js";

/** An in-progress issue holding its repository's lock, and since when (from its run marker). */
export interface Lock {
  holder: Issue;
  /** The run's `dispatchedAt`; null when the holder has no run marker (a lock nobody can explain). */
  since: string | null;
}

export interface QueueStall {
  waiting: Issue;
  lock: Lock;
  /** How long the waiting issue has been blocked, at least as far as the tracker can tell. */
  blockedMinutes: number;
}

/**
 * The poller's alarm: ready issues that nothing can dispatch because their repository has been locked
 * for too long. The tracker does not say when the ready label was added, so a wait is measured from
 * the later of the issue's creation and the lock's start (an upper bound of the real wait).
 * A lock without a marker counts from the issue's creation.
 */
export function findQueueStalls(input: {
  blocked: readonly Issue[];
  locks: readonly Lock[];
  now: string;
  limitMinutes: number;
}): QueueStall[] {
  const now = Date.parse(input.now);
  const stalls: QueueStall[] = [];
  for (const waiting of input.blocked) {
    const lock = input.locks.find((l) => l.holder.repo === waiting.repo);
    if (!lock) continue;
    const from = Math.max(Date.parse(waiting.createdAt), lock.since ? Date.parse(lock.since) : 0);
    const blockedMinutes = Math.floor((now - from) / 60_000);
    if (blockedMinutes >= input.limitMinutes) stalls.push({ waiting, lock, blockedMinutes });
  }
  return stalls;
}
