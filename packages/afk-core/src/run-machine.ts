import { withT3Outage } from "./t3-outage.js";
import {
  type Action,
  type Check,
  type Issue,
  isTerminal,
  laterPhase,
  type Phase,
  type ProgressPhase,
  phaseRank,
  type RunMarker,
  type RunState,
  type SentTurn,
} from "./types.js";

/** The marker of a freshly dispatched run. */
export function newRunMarker(input: {
  issue: Pick<Issue, "repo" | "number">;
  projectId: string;
  threadId: string;
  turn: SentTurn;
  now: string;
}): RunMarker {
  return {
    v: 1,
    repo: input.issue.repo,
    issue: input.issue.number,
    projectId: input.projectId,
    threadId: input.threadId,
    phase: "dispatched",
    phaseSince: input.now,
    dispatchedAt: input.now,
    fixForwards: 0,
    turn: input.turn,
    sha: null,
    lastCiFailure: null,
    escalation: null,
    updatedAt: input.now,
  };
}

/** The commit of the current attempt: the agent's latest report, else the one carried over. */
export function currentSha(state: RunState): string | null {
  return state.observation.thread?.reports.sha ?? state.marker.sha;
}

/**
 * The furthest phase the evidence supports: the carried phase, the agent's reports, and CI on the
 * pushed commit. Terminal phases are kept as they are.
 */
export function derivePhase(state: RunState): Phase {
  const { marker, observation } = state;
  if (isTerminal(marker.phase)) return marker.phase;
  let phase: ProgressPhase = marker.phase;
  const reports = observation.thread?.reports;
  for (const reported of reports?.phases ?? []) phase = laterPhase(phase, reported);
  if (currentSha(state)) phase = laterPhase(phase, "pushed");
  const ci = observation.ci;
  if (currentSha(state) && ci) {
    if (ci.ci === "pending" || ci.ci === "failure") phase = laterPhase(phase, "ci-running");
    if (ci.ci === "success") {
      phase = laterPhase(phase, "ci-green");
      if (state.deployConfigured && ci.deploy === "success") phase = laterPhase(phase, "deployed");
    }
  }
  return phase;
}

function minutesBetween(from: string, to: string): number {
  return Math.floor((Date.parse(to) - Date.parse(from)) / 60_000);
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

/** Whether the run reached the end of the work (deployed, or CI green when nothing deploys). */
export function isFinished(phase: Phase, deployConfigured: boolean): boolean {
  return phase === "deployed" || (phase === "ci-green" && !deployConfigured);
}

/** The one thing to do for a run this tick. Every branch is a pure function of the state. */
export function nextAction(state: RunState): Action {
  const { marker, observation, limits, now } = state;
  // A terminal marker on a run still labelled in progress: the previous tick was interrupted
  // after recording the outcome; finish it (both actions are idempotent).
  if (marker.phase === "done") return { kind: "close" };
  if (marker.phase === "escalated") {
    return { kind: "escalate", reason: marker.escalation?.reason ?? "escalated" };
  }
  const thread = observation.thread;
  if (!thread)
    return { kind: "escalate", reason: `T3 thread ${marker.threadId} is gone (deleted or unknown)` };
  const { liveness, reports } = thread;
  if (liveness.state === "failed") return { kind: "escalate", reason: `agent error: ${liveness.reason}` };
  if (reports.blocked) return { kind: "escalate", reason: `the agent asked for a human: ${reports.blocked}` };

  const phase = derivePhase(state) as ProgressPhase;
  const sha = currentSha(state);
  const ci = observation.ci;
  const running = liveness.state === "running";
  if (sha && ci?.deploy === "failure") return { kind: "escalate", reason: `deploy failed on ${short(sha)}` };
  if (sha && ci?.ci === "failure" && !running) {
    if (marker.fixForwards < limits.maxFixForwards) {
      return { kind: "fix-forward", sha, failures: ci.failures, attempt: marker.fixForwards + 1 };
    }
    const names = ci.failures.map((c) => c.name).join(", ");
    return {
      kind: "escalate",
      reason: `CI failed on ${short(sha)} (${names}) after ${marker.fixForwards} fix-forward(s)`,
    };
  }
  if (isFinished(phase, state.deployConfigured) && !running) return { kind: "close" };
  if (liveness.state === "idle" && phaseRank(phase) < phaseRank("pushed")) {
    return { kind: "escalate", reason: `the agent ended its turn without pushing (phase ${phase})` };
  }
  const since = phase === marker.phase ? marker.phaseSince : now;
  const stalled = minutesBetween(since, now);
  const limit = limits.stallMinutesByPhase[phase] ?? limits.stallMinutes;
  if (stalled >= limit) {
    return {
      kind: "escalate",
      reason: `no progress in phase ${phase} for ${stalled} minutes (limit ${limit})`,
    };
  }
  if (phase !== marker.phase) return { kind: "refresh-checklist", from: marker.phase, to: phase };
  return { kind: "wait", reason: `phase ${phase}, agent ${liveness.state} (${liveness.reason})` };
}

/**
 * The marker carried forward with this tick's evidence (phase, its start time, the commit). There
 * is an observation, so T3 answered: an outage the marker carries is over.
 */
export function progressMarker(state: RunState): RunMarker {
  const { now } = state;
  if (isTerminal(state.marker.phase)) return state.marker;
  const marker = withT3Outage(state.marker, null, now);
  const phase = derivePhase(state);
  const sha = currentSha(state);
  if (phase === marker.phase && sha === marker.sha) return marker;
  return {
    ...marker,
    phase,
    phaseSince: phase === marker.phase ? marker.phaseSince : now,
    sha,
    updatedAt: now,
  };
}

/** After a corrective turn was sent: a new attempt starts from `dispatched`. */
export function markFixForward(
  marker: RunMarker,
  input: { turn: SentTurn; sha: string; failures: readonly Check[]; now: string },
): RunMarker {
  return {
    ...marker,
    phase: "dispatched",
    phaseSince: input.now,
    fixForwards: marker.fixForwards + 1,
    turn: input.turn,
    sha: null,
    lastCiFailure: { sha: input.sha, checks: input.failures.map((c) => c.name) },
    updatedAt: input.now,
  };
}

export function markEscalated(marker: RunMarker, reason: string, now: string): RunMarker {
  if (marker.phase === "escalated") return marker;
  const from: ProgressPhase = marker.phase === "done" ? "deployed" : marker.phase;
  return { ...marker, phase: "escalated", phaseSince: now, escalation: { reason, from }, updatedAt: now };
}

export function markDone(marker: RunMarker, now: string): RunMarker {
  if (marker.phase === "done") return marker;
  return { ...marker, phase: "done", phaseSince: now, updatedAt: now };
}
