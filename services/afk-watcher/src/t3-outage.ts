import {
  AdapterError,
  AdapterPreconditionError,
  type Doorbell,
  type Tracker,
} from "@claude-gateway/afk-adapters";
import {
  type AfkConfig,
  type Issue,
  isTerminal,
  latestMarker,
  renderChecklist,
  type T3Outage,
  t3OutageStep,
  withT3Outage,
} from "@claude-gateway/afk-core";

export interface OutageDeps {
  config: AfkConfig;
  tracker: Tracker;
  doorbell: Doorbell;
  now: () => Date;
}

/**
 * Whether a run failed because T3 could not be read within its contract: unreachable, too slow,
 * non-2xx, not JSON, a body the schemas reject. Not a thread that is gone, not the tracker or CI.
 */
export function isT3Outage(err: unknown): err is AdapterError {
  return err instanceof AdapterError && err.system === "t3" && !(err instanceof AdapterPreconditionError);
}

/** What the run's marker says about the outage after this tick; null when the issue has no live run. */
export type OutageNote = { outage: T3Outage; rang: boolean } | null;

/**
 * Records on the run's marker (the tracker is reachable when T3 is not) that T3 could not be read
 * this tick, and rings the doorbell once the outage has lasted `AFK_T3_UNREACHABLE_MINUTES`: once per
 * outage, since the marker remembers. It rings before recording that it rang: a ring that is not
 * recorded rings again next tick, and a second ring beats silence.
 */
export async function noteT3Outage(deps: OutageDeps, issue: Issue, failure: string): Promise<OutageNote> {
  const { config, tracker } = deps;
  const found = latestMarker(await tracker.listComments(issue.repo, issue.number));
  // No marker: watchOne escalated before reading T3. A finished run: the next answer finishes it.
  if (!found || isTerminal(found.marker.phase)) return null;
  const marker = found.marker;
  const now = deps.now().toISOString();
  const step = t3OutageStep({
    outage: marker.t3Outage,
    failure,
    now,
    limitMinutes: config.limits.t3UnreachableMinutes,
  });
  const save = async (outage: T3Outage) => {
    const next = withT3Outage(marker, outage, now);
    if (next === marker) return;
    const body = renderChecklist(next, {
      deployConfigured: config.deployContext !== null,
      maxFixForwards: config.limits.maxFixForwards,
    });
    await tracker.editComment(issue.repo, found.comment.id, body);
  };
  if (step.ring) {
    try {
      await deps.doorbell.ring({
        subject: `${issue.repo}#${issue.number}: ${issue.title}`,
        url: issue.url,
        reason: step.ring.reason,
        details: [
          `T3 could not be read since ${step.outage.since}`,
          `T3 thread ${marker.threadId}, phase ${marker.phase}`,
          "the run stays in progress: the watcher carries on when T3 answers within its contract again",
        ],
      });
    } catch (err) {
      await save({ ...step.outage, rang: false });
      throw err;
    }
  }
  await save(step.outage);
  return { outage: step.outage, rang: step.ring !== null };
}
