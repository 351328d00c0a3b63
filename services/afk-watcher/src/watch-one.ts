import type { CommitChecks, Doorbell, T3Threads, Tracker } from "@claude-gateway/afk-adapters";
import {
  type Action,
  type AfkConfig,
  currentSha,
  fixForwardPrompt,
  type Issue,
  latestMarker,
  markDone,
  markEscalated,
  markFixForward,
  nextAction,
  observeThread,
  progressMarker,
  type RunMarker,
  type RunState,
  renderChecklist,
  summariseChecks,
} from "@claude-gateway/afk-core";

export interface WatchDeps {
  config: AfkConfig;
  tracker: Tracker;
  t3: T3Threads;
  checks: CommitChecks;
  doorbell: Doorbell;
  now: () => Date;
}

export interface WatchResult {
  action: Action;
  phase: string;
}

const key = (i: Issue) => `${i.repo}#${i.number}`;

/** Assembles the run's state from its marker, the T3 thread and CI on the pushed commit. */
async function observe(deps: WatchDeps, issue: Issue, marker: RunMarker): Promise<RunState> {
  const thread = observeThread(await deps.t3.readThread(marker.threadId), marker.turn);
  const partial: RunState = {
    marker,
    observation: { thread, ci: null },
    now: deps.now().toISOString(),
    limits: deps.config.limits,
    deployConfigured: deps.config.deployContext !== null,
  };
  const sha = currentSha(partial);
  if (!sha) return partial;
  const checks = await deps.checks.checksFor(issue.repo, sha);
  return { ...partial, observation: { thread, ci: summariseChecks(checks, deps.config.deployContext) } };
}

async function escalate(deps: WatchDeps, issue: Issue, reason: string, details: string[]): Promise<void> {
  // Loud first: a doorbell that rang twice beats a run that left the queue silently.
  await deps.doorbell.ring({ subject: `${key(issue)}: ${issue.title}`, url: issue.url, reason, details });
  await deps.tracker.addLabel(issue.repo, issue.number, deps.config.labels.human);
  await releaseLock(deps, issue);
}

/** The run no longer holds its repository: the lock goes, and with it a stalled-queue label. */
async function releaseLock(deps: WatchDeps, issue: Issue): Promise<void> {
  const { labels } = deps.config;
  await deps.tracker.removeLabel(issue.repo, issue.number, labels.inProgress);
  if (issue.labels.includes(labels.stalled))
    await deps.tracker.removeLabel(issue.repo, issue.number, labels.stalled);
}

/**
 * Stops the run's agent on T3 (interrupt the turn, stop the session, read back): a full-access
 * agent must not keep working on an issue the loop has let go of. The checklist line to add when
 * it could not be confirmed, else null.
 */
async function stopAgent(
  deps: WatchDeps,
  threadId: string,
): Promise<{ note: string | null; detail: string }> {
  const result = await deps.t3.stopRun(threadId);
  if (result.stopped) return { note: null, detail: `agent stopped (${result.detail})` };
  return {
    note: `**The T3 agent could not be confirmed stopped** (thread \`${threadId}\`: ${result.detail}). Stop it by hand.`,
    detail: `agent NOT confirmed stopped: ${result.detail}`,
  };
}

/**
 * Tick #2 for one in-progress issue: observe → next action → act. The marker is written before
 * the labels change, so an interrupted tick leaves a state the next one can finish.
 */
export async function watchOne(deps: WatchDeps, issue: Issue): Promise<WatchResult> {
  const { config, tracker } = deps;
  const found = latestMarker(await tracker.listComments(issue.repo, issue.number));
  if (!found) {
    const reason =
      "labelled in progress, but no run marker was found on the issue (label set by hand, or the comment was deleted)";
    await tracker.createComment(
      issue.repo,
      issue.number,
      `### AFK run: needs a human\n\n**Escalated:** ${reason}`,
    );
    await escalate(deps, issue, reason, []);
    return { action: { kind: "escalate", reason }, phase: "unknown" };
  }

  const state = await observe(deps, issue, found.marker);
  const action = nextAction(state);
  const now = state.now;
  let marker = progressMarker(state);
  const render = (m: RunMarker) =>
    renderChecklist(m, {
      deployConfigured: config.deployContext !== null,
      maxFixForwards: config.limits.maxFixForwards,
    });
  const save = async (m: RunMarker, note: string | null = null) => {
    if (m !== found.marker) {
      await tracker.editComment(issue.repo, found.comment.id, note ? `${render(m)}\n\n${note}` : render(m));
    }
  };

  switch (action.kind) {
    case "wait":
    case "refresh-checklist":
      await save(marker);
      break;
    case "close": {
      marker = markDone(marker, now);
      const stop = await stopAgent(deps, marker.threadId);
      await save(marker, stop.note);
      await tracker.closeIssue(issue.repo, issue.number);
      await releaseLock(deps, issue);
      break;
    }
    case "escalate": {
      marker = markEscalated(marker, action.reason, now);
      const stop = await stopAgent(deps, marker.threadId);
      await save(marker, stop.note);
      await escalate(deps, issue, action.reason, [
        `stopped in phase ${marker.escalation?.from ?? marker.phase}`,
        `T3 thread ${marker.threadId}: ${stop.detail}`,
        `fix-forwards used ${marker.fixForwards}/${config.limits.maxFixForwards}`,
      ]);
      break;
    }
    case "fix-forward": {
      const turn = await deps.t3.sendTurn(
        marker.threadId,
        fixForwardPrompt({
          sha: action.sha,
          failures: action.failures,
          attempt: action.attempt,
          maxAttempts: config.limits.maxFixForwards,
        }),
      );
      marker = markFixForward(marker, { turn, sha: action.sha, failures: action.failures, now });
      await save(marker);
      break;
    }
  }
  return { action, phase: marker.phase };
}
