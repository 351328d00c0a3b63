import type { T3Dispatch, Tracker } from "@claude-gateway/afk-adapters";
import {
  type AfkConfig,
  dispatchKey,
  hasMarker,
  type Issue,
  implementerPrompt,
  isTerminal,
  latestMarker,
  newRunMarker,
  renderChecklist,
  workspaceRootFor,
} from "@claude-gateway/afk-core";

export type DispatchResult =
  | { kind: "dispatched"; threadId: string; projectId: string }
  | { kind: "adopted"; threadId: string }
  | { kind: "raced"; why: string };

export interface DispatchDeps {
  config: AfkConfig;
  tracker: Tracker;
  t3: T3Dispatch;
  now: () => Date;
}

const TITLE_MAX = 200;

/**
 * Labels go on only after the run is recorded: a failed dispatch leaves no lock behind. A stalled
 * label from an earlier run of a re-queued issue goes, so the queue alarm can ring for this run.
 */
async function stampInProgress(deps: DispatchDeps, issue: Issue): Promise<void> {
  const { labels } = deps.config;
  await deps.tracker.addLabel(issue.repo, issue.number, labels.inProgress);
  await deps.tracker.removeLabel(issue.repo, issue.number, labels.ready);
  if (issue.labels.includes(labels.stalled))
    await deps.tracker.removeLabel(issue.repo, issue.number, labels.stalled);
}

/**
 * Dispatches one issue: re-read it (another tick may have taken it), adopt a run a previous tick
 * recorded but could not label, else start a fresh T3 thread, record the run in the checklist
 * comment, then stamp the labels.
 */
export async function dispatchOne(deps: DispatchDeps, issue: Issue): Promise<DispatchResult> {
  const { config, tracker } = deps;
  const fresh = await tracker.getIssue(issue.repo, issue.number);
  if (!fresh?.open) return { kind: "raced", why: "no longer open" };
  if (fresh.labels.includes(config.labels.inProgress)) return { kind: "raced", why: "already in progress" };
  if (!fresh.labels.includes(config.labels.ready)) return { kind: "raced", why: "no longer ready" };

  const comments = await tracker.listComments(issue.repo, issue.number);
  const existing = latestMarker(comments);
  if (existing && !isTerminal(existing.marker.phase)) {
    await stampInProgress(deps, fresh);
    return { kind: "adopted", threadId: existing.marker.threadId };
  }

  // This attempt's ids are fixed before the first command: a dispatch whose answer was lost, retried
  // now or by the next tick (nothing was recorded on the issue yet), resends the same commands and
  // T3 starts no second thread. A re-queued issue has one more recorded run: a new attempt.
  const attempt = comments.filter((c) => hasMarker(c.body)).length + 1;
  const started = await deps.t3.startRun({
    dispatchKey: dispatchKey(fresh, attempt),
    workspaceRoot: workspaceRootFor(config.t3.workspaceRootTemplate, issue.repo),
    projectTitle: issue.repo,
    threadTitle: `[afk] ${issue.repo}#${issue.number}: ${fresh.title}`.slice(0, TITLE_MAX),
    prompt: implementerPrompt(fresh),
    model: { instanceId: config.t3.modelInstance, model: config.t3.model },
  });
  const marker = newRunMarker({
    issue: fresh,
    projectId: started.projectId,
    threadId: started.threadId,
    turn: started.turn,
    now: deps.now().toISOString(),
  });
  try {
    await tracker.createComment(
      issue.repo,
      issue.number,
      renderChecklist(marker, {
        deployConfigured: config.deployContext !== null,
        maxFixForwards: config.limits.maxFixForwards,
      }),
    );
    await stampInProgress(deps, fresh);
  } catch (err) {
    // The thread runs but the tracker does not know: say which thread, so a human can find it.
    throw new DispatchRecordError(issue, started.threadId, err);
  }
  return { kind: "dispatched", threadId: started.threadId, projectId: started.projectId };
}

/** The T3 run started but could not be recorded on the issue. */
export class DispatchRecordError extends Error {
  override readonly name = "DispatchRecordError";
  constructor(
    issue: Issue,
    readonly threadId: string,
    cause: unknown,
  ) {
    super(
      `${issue.repo}#${issue.number}: T3 thread ${threadId} started but the issue was not updated: ${(cause as Error)?.message}`,
      {
        cause,
      },
    );
  }
}
