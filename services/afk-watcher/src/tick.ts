import type { CommitChecks, Doorbell, T3Threads, TickLogger, Tracker } from "@claude-gateway/afk-adapters";
import type { AfkConfig, Issue } from "@claude-gateway/afk-core";
import { isT3Outage, noteT3Outage } from "./t3-outage.js";
import { type WatchResult, watchOne } from "./watch-one.js";

export interface WatcherDeps {
  config: AfkConfig;
  tracker: Tracker;
  t3: T3Threads;
  checks: CommitChecks;
  doorbell: Doorbell;
  logger: TickLogger;
  now: () => Date;
}

export interface WatcherOutcome {
  runs: Array<{ issue: string } & WatchResult>;
  failures: Array<{ scope: string; error: string }>;
}

const key = (i: Issue) => `${i.repo}#${i.number}`;

/**
 * T3 could not be read for this run: the tick still fails, but the outage is kept on the run's
 * marker so that one lasting `AFK_T3_UNREACHABLE_MINUTES` rings the doorbell (once).
 */
async function t3Outage(
  deps: WatcherDeps,
  issue: Issue,
  err: Error,
  fail: (scope: string, err: unknown) => void,
): Promise<void> {
  try {
    const note = await noteT3Outage(deps, issue, err.message);
    if (note?.rang) {
      deps.logger.warn({ issue: key(issue), outage: note.outage }, "T3 outage: doorbell rung");
    } else if (note) {
      deps.logger.warn({ issue: key(issue), outage: note.outage }, "T3 outage: noted on the run");
    }
  } catch (noteErr) {
    fail(key(issue), noteErr);
  }
}

/**
 * Tick #2: for each in-progress issue, assemble its state from the T3 snapshot and CI, decide, act.
 * One run's failure does not stop the others; it makes the tick exit non-zero.
 */
export async function watcherTick(deps: WatcherDeps): Promise<WatcherOutcome> {
  const { config, tracker, logger } = deps;
  const outcome: WatcherOutcome = { runs: [], failures: [] };
  const fail = (scope: string, err: unknown) => {
    outcome.failures.push({ scope, error: err instanceof Error ? err.message : String(err) });
    logger.error({ scope, err }, "adapter failed");
  };

  for (const repo of config.allowlist) {
    let issues: Issue[];
    try {
      issues = await tracker.listOpenIssues(repo, config.labels.inProgress);
    } catch (err) {
      fail(repo, err);
      continue;
    }
    for (const issue of issues) {
      try {
        const result = await watchOne(deps, issue);
        outcome.runs.push({ issue: key(issue), ...result });
        const level = result.action.kind === "escalate" ? "warn" : "info";
        logger[level](
          { issue: key(issue), phase: result.phase, action: result.action },
          `run ${result.action.kind}`,
        );
      } catch (err) {
        fail(key(issue), err);
        if (isT3Outage(err)) await t3Outage(deps, issue, err, fail);
      }
    }
  }
  if (outcome.runs.length === 0 && outcome.failures.length === 0) logger.info({}, "no run in progress");
  return outcome;
}

/** 0: did its work (or nothing); 1: an adapter failed. */
export function exitCodeOf(outcome: WatcherOutcome): number {
  return outcome.failures.length > 0 ? 1 : 0;
}
