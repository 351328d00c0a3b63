import type { Doorbell, Tracker } from "@claude-gateway/afk-adapters";
import {
  type AfkConfig,
  findQueueStalls,
  type Issue,
  type Lock,
  latestMarker,
  MarkerDecodeError,
  type QueueStall,
} from "@claude-gateway/afk-core";

export interface AlarmDeps {
  config: AfkConfig;
  tracker: Tracker;
  doorbell: Doorbell;
  now: () => Date;
}

async function lockSince(deps: AlarmDeps, holder: Issue): Promise<string | null> {
  try {
    return (
      latestMarker(await deps.tracker.listComments(holder.repo, holder.number))?.marker.dispatchedAt ?? null
    );
  } catch (err) {
    if (err instanceof MarkerDecodeError) return null;
    throw err;
  }
}

/**
 * A ready queue that nothing can dispatch for too long is an alarm, not a quiet exit 0: the stalls
 * are returned (the tick exits non-zero) and the doorbell rings once per lock holder, remembered by
 * the stalled label on it.
 */
export async function checkQueueStalls(
  deps: AlarmDeps,
  blocked: readonly Issue[],
  inProgress: readonly Issue[],
): Promise<QueueStall[]> {
  const locks: Lock[] = [];
  for (const repo of new Set(blocked.map((i) => i.repo))) {
    const holder = inProgress.filter((i) => i.repo === repo).sort((a, b) => a.number - b.number)[0];
    if (holder) locks.push({ holder, since: await lockSince(deps, holder) });
  }
  const stalls = findQueueStalls({
    blocked,
    locks,
    now: deps.now().toISOString(),
    limitMinutes: deps.config.limits.queueStallMinutes,
  });
  const rung = new Set<string>();
  for (const stall of stalls) {
    const { holder } = stall.lock;
    const key = `${holder.repo}#${holder.number}`;
    if (rung.has(key) || holder.labels.includes(deps.config.labels.stalled)) continue;
    rung.add(key);
    const waiting = stalls.filter((s) => s.lock.holder === holder).map((s) => `#${s.waiting.number}`);
    await deps.doorbell.ring({
      subject: `${key}: ${holder.title}`,
      url: holder.url,
      reason: `the ready queue of ${holder.repo} (${waiting.join(", ")}) has waited ${stall.blockedMinutes} minutes behind this run`,
      details: [
        stall.lock.since
          ? `run dispatched at ${stall.lock.since}`
          : "this issue has no run marker: was the label set by hand?",
      ],
    });
    await deps.tracker.addLabel(holder.repo, holder.number, deps.config.labels.stalled);
  }
  return stalls;
}
