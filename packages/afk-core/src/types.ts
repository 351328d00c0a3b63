/** The four priorities; a lower value is dispatched first. */
export type Priority = 0 | 1 | 2 | 3;

/** An open tracker issue, as the ticks see it (tracker-neutral). */
export interface Issue {
  /** `owner/name`, exactly as written in the allowlist. */
  repo: string;
  number: number;
  title: string;
  body: string;
  labels: string[];
  priority: Priority;
  /** ISO-8601. */
  createdAt: string;
  /** The issue's web page, for the doorbell and the agent. */
  url: string;
}

/** Progress phases, in order. A run only moves forward within one attempt. */
export const PROGRESS_PHASES = [
  "dispatched",
  "tests-red",
  "tests-green",
  "pushed",
  "ci-running",
  "ci-green",
  "deployed",
] as const;
export type ProgressPhase = (typeof PROGRESS_PHASES)[number];

/** Every phase of the run state machine: progress, then one of the two ends. */
export type Phase = ProgressPhase | "done" | "escalated";
export const TERMINAL_PHASES = ["done", "escalated"] as const;

export function isTerminal(phase: Phase): phase is "done" | "escalated" {
  return phase === "done" || phase === "escalated";
}

/** Position of a progress phase (`dispatched` = 0). */
export function phaseRank(phase: ProgressPhase): number {
  return PROGRESS_PHASES.indexOf(phase);
}

export function laterPhase(a: ProgressPhase, b: ProgressPhase): ProgressPhase {
  return phaseRank(b) > phaseRank(a) ? b : a;
}

/** The user turn the loop last sent to the thread: liveness is judged relative to it. */
export interface SentTurn {
  messageId: string;
  /** The `createdAt` the loop put on the `thread.turn.start` command. */
  sentAt: string;
  /** `latestTurn.turnId` before this turn was dispatched (null on a fresh thread). */
  baselineTurnId: string | null;
}

/**
 * Everything a stateless tick needs to carry from one tick to the next. Stored as a machine-readable
 * block inside the run's checklist comment on the issue (see `marker.ts`).
 */
export interface RunMarker {
  v: 1;
  repo: string;
  issue: number;
  projectId: string;
  threadId: string;
  phase: Phase;
  /** When `phase` was entered: the stall clock. */
  phaseSince: string;
  dispatchedAt: string;
  /** Corrective turns sent so far. */
  fixForwards: number;
  turn: SentTurn;
  /** The commit the agent pushed in the current attempt. */
  sha: string | null;
  /** The last CI failure that caused a fix-forward (shown on the checklist). */
  lastCiFailure: { sha: string; checks: string[] } | null;
  /** Set when the run escalated: why, and the progress phase it stopped in. */
  escalation: { reason: string; from: ProgressPhase } | null;
  /** Set while T3 cannot be read (absent in markers written before it existed). */
  t3Outage?: T3Outage | null;
  updatedAt: string;
}

/**
 * T3 unreachable or answering outside its contract, as seen from one run: since when, whether the
 * doorbell rang about it, and the latest failure.
 */
export interface T3Outage {
  since: string;
  rang: boolean;
  reason: string;
}

/** A run in flight: the issue plus its carried state. */
export interface Run {
  issue: Issue;
  marker: RunMarker;
}

/** One CI signal on a commit (a commit status context, a check run), normalised. */
export interface Check {
  name: string;
  state: "pending" | "success" | "failure";
  url: string | null;
  description: string | null;
}

export interface CiSummary {
  /** `none`: no CI signal yet on the commit. */
  ci: "none" | "pending" | "success" | "failure";
  /** The deploy check, when one is configured; `absent` until it shows up. */
  deploy: "not-configured" | "absent" | "pending" | "success" | "failure";
  failures: Check[];
}

export type LivenessState = "running" | "idle" | "failed";

export interface Liveness {
  state: LivenessState;
  /** Which contract rule decided it: for the logs and the escalation reason. */
  reason: string;
}

/** What the agent reported in its messages after the loop's last turn. */
export interface AgentReports {
  phases: ProgressPhase[];
  /** The last `PUSHED <sha>`. */
  sha: string | null;
  /** `BLOCKED: <reason>`: the agent asks for a human. */
  blocked: string | null;
}

/** The parts of a T3 thread the pure cores read (structurally satisfied by the adapter's schema). */
export interface ThreadView {
  id: string;
  deletedAt: string | null;
  latestTurn: {
    turnId: string;
    state: "running" | "interrupted" | "completed" | "error";
  } | null;
  session: {
    status: "idle" | "starting" | "running" | "ready" | "interrupted" | "stopped" | "error";
    activeTurnId: string | null;
    lastError: string | null;
  } | null;
  /** Absent in snapshots from v0.0.32 (read the thread endpoint instead). */
  messages?: ReadonlyArray<{
    id: string;
    role: "user" | "assistant" | "system";
    text: string;
    streaming: boolean;
    createdAt: string;
  }>;
  /** Only `tone`, `kind` and `createdAt` are sure to be there (the contract lists no others). */
  activities?: ReadonlyArray<{
    tone: string;
    kind: string;
    summary?: string;
    createdAt: string;
  }>;
}

/** What the watcher observed this tick for one run. */
export interface Observation {
  /** Null: the thread is gone (deleted, or unknown to the server). */
  thread: { liveness: Liveness; reports: AgentReports } | null;
  /** CI on `sha`; null when no commit was pushed in this attempt. */
  ci: CiSummary | null;
}

export interface RunLimits {
  maxFixForwards: number;
  stallMinutes: number;
  /** Overrides of `stallMinutes` for given phases. */
  stallMinutesByPhase: Partial<Record<ProgressPhase, number>>;
}

/** The input of `nextAction`: the carried marker, this tick's observation, the clock and the limits. */
export interface RunState {
  marker: RunMarker;
  observation: Observation;
  now: string;
  limits: RunLimits;
  /** Whether a deploy check is configured (otherwise a run is done at `ci-green`). */
  deployConfigured: boolean;
}

export type Action =
  | { kind: "wait"; reason: string }
  | { kind: "refresh-checklist"; from: Phase; to: Phase }
  | { kind: "close" }
  | { kind: "escalate"; reason: string }
  | { kind: "fix-forward"; sha: string; failures: Check[]; attempt: number };
