import type { Doorbell, T3Dispatch, TickLogger, Tracker } from "@claude-gateway/afk-adapters";
import { type AfkConfig, type Issue, type QueueStall, selectDispatchable } from "@claude-gateway/afk-core";
import { type DispatchResult, dispatchOne } from "./dispatch-one.js";
import { checkQueueStalls } from "./queue-alarm.js";

export interface PollerDeps {
  config: AfkConfig;
  tracker: Tracker;
  t3: T3Dispatch;
  doorbell: Doorbell;
  logger: TickLogger;
  now: () => Date;
}

export interface PollerOutcome {
  /** Why nothing was dispatched, when nothing was. */
  idle: "nothing-ready" | "all-locked" | "none-allowlisted" | null;
  results: Array<{ issue: string } & DispatchResult>;
  failures: Array<{ scope: string; error: string }>;
  stalls: QueueStall[];
}

const key = (i: Pick<Issue, "repo" | "number">) => `${i.repo}#${i.number}`;

/**
 * Tick #1: list ready issues → choose what to dispatch (priority, age, one run per repository, the
 * allowlist, the cap) → dispatch → stamp. Also raises the alarm on a queue stalled behind a lock.
 */
export async function pollerTick(deps: PollerDeps): Promise<PollerOutcome> {
  const { config, tracker, logger } = deps;
  const outcome: PollerOutcome = { idle: null, results: [], failures: [], stalls: [] };
  const fail = (scope: string, err: unknown) => {
    const error = err instanceof Error ? err.message : String(err);
    outcome.failures.push({ scope, error });
    logger.error({ scope, err }, "adapter failed");
  };

  const ready: Issue[] = [];
  const inProgress: Issue[] = [];
  for (const repo of config.allowlist) {
    try {
      // Both lists or neither: a repository whose lock state is unknown is not dispatched to.
      const [r, p] = await Promise.all([
        tracker.listOpenIssues(repo, config.labels.ready),
        tracker.listOpenIssues(repo, config.labels.inProgress),
      ]);
      ready.push(...r);
      inProgress.push(...p);
    } catch (err) {
      fail(repo, err);
    }
  }

  const plan = selectDispatchable({
    ready,
    inProgress,
    allowlist: config.allowlist,
    maxPerTick: config.limits.maxDispatchPerTick,
    inProgressLabel: config.labels.inProgress,
  });
  for (const s of plan.skipped) logger.debug({ issue: key(s.issue), reason: s.reason }, "not dispatched");

  for (const issue of plan.dispatch) {
    try {
      const result = await dispatchOne(deps, issue);
      outcome.results.push({ issue: key(issue), ...result });
      logger.info(
        { issue: key(issue), ...result },
        result.kind === "raced" ? "skipped: taken meanwhile" : result.kind,
      );
    } catch (err) {
      fail(key(issue), err);
    }
  }

  if (plan.dispatch.length === 0) {
    outcome.idle = plan.idle;
    logger.info(
      { reason: plan.idle, ready: ready.length, inProgress: inProgress.length },
      `nothing to dispatch: ${plan.idle}`,
    );
  }

  const blocked = plan.skipped.filter((s) => s.reason === "repo-locked").map((s) => s.issue);
  if (blocked.length > 0) {
    try {
      outcome.stalls = await checkQueueStalls(deps, blocked, inProgress);
    } catch (err) {
      fail("queue-alarm", err);
    }
    for (const s of outcome.stalls) {
      logger.error(
        { issue: key(s.waiting), lockedBy: key(s.lock.holder), blockedMinutes: s.blockedMinutes },
        "ready queue stalled behind a lock",
      );
    }
  }
  return outcome;
}

/** 0: did its work (or nothing, for a logged reason); 1: an adapter failed; 2: the queue is stalled. */
export function exitCodeOf(outcome: PollerOutcome): number {
  if (outcome.failures.length > 0) return 1;
  if (outcome.stalls.length > 0) return 2;
  return 0;
}
