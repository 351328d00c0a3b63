import type { Issue, Observation, RunMarker, RunState } from "../types.js";

export const T0 = "2026-03-02T10:00:00.000Z";

/** `T0` plus some minutes, as ISO. */
export function at(minutes: number): string {
  return new Date(Date.parse(T0) + minutes * 60_000).toISOString();
}

export function issue(over: Partial<Issue> = {}): Issue {
  const number = over.number ?? 1;
  const repo = over.repo ?? "acme/app";
  return {
    repo,
    number,
    title: `issue ${number}`,
    body: "Do the thing.",
    labels: ["ready-for-agent"],
    priority: 2,
    createdAt: T0,
    url: `https://git.example/${repo}/issues/${number}`,
    ...over,
  };
}

export function marker(over: Partial<RunMarker> = {}): RunMarker {
  return {
    v: 1,
    repo: "acme/app",
    issue: 1,
    projectId: "p-1",
    threadId: "t-1",
    phase: "dispatched",
    phaseSince: T0,
    dispatchedAt: T0,
    fixForwards: 0,
    turn: { messageId: "m-1", sentAt: T0, baselineTurnId: null },
    sha: null,
    lastCiFailure: null,
    escalation: null,
    updatedAt: T0,
    ...over,
  };
}

export const running: NonNullable<Observation["thread"]> = {
  liveness: { state: "running", reason: "session running" },
  reports: { phases: [], sha: null, blocked: null },
};

export function thread(
  state: "running" | "idle" | "failed",
  reports: Partial<NonNullable<Observation["thread"]>["reports"]> = {},
): NonNullable<Observation["thread"]> {
  return {
    liveness: { state, reason: `test ${state}` },
    reports: { phases: [], sha: null, blocked: null, ...reports },
  };
}

export function runState(over: {
  marker?: Partial<RunMarker>;
  observation?: Partial<Observation>;
  now?: string;
  maxFixForwards?: number;
  stallMinutes?: number;
  deployConfigured?: boolean;
}): RunState {
  return {
    marker: marker(over.marker),
    observation: { thread: running, ci: null, ...over.observation },
    now: over.now ?? at(1),
    limits: {
      maxFixForwards: over.maxFixForwards ?? 3,
      stallMinutes: over.stallMinutes ?? 60,
      stallMinutesByPhase: { "ci-running": 30 },
    },
    deployConfigured: over.deployConfigured ?? false,
  };
}
