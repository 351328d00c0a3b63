import type { Issue } from "./types.js";

export type SkipReason = "not-allowlisted" | "already-in-progress" | "repo-locked" | "over-cap";

export interface DispatchInput {
  /** Open issues carrying the ready label. */
  ready: readonly Issue[];
  /** Open issues carrying the in-progress label: each locks its repository. */
  inProgress: readonly Issue[];
  allowlist: readonly string[];
  maxPerTick: number;
  inProgressLabel: string;
}

export interface DispatchPlan {
  dispatch: Issue[];
  skipped: Array<{ issue: Issue; reason: SkipReason }>;
  /** Why nothing is dispatched, when nothing is. */
  idle: "nothing-ready" | "all-locked" | "none-allowlisted" | null;
}

/** Dispatch order: lower priority value first, then oldest, then a stable tie-break. */
export function compareIssues(a: Issue, b: Issue): number {
  return (
    a.priority - b.priority ||
    Date.parse(a.createdAt) - Date.parse(b.createdAt) ||
    a.repo.localeCompare(b.repo) ||
    a.number - b.number
  );
}

/**
 * Chooses what to dispatch now. The per-repo lock is derived from the tracker's labels (an open issue
 * labelled in-progress locks its repository), because ticks keep no state of their own.
 */
export function selectDispatchable(input: DispatchInput): DispatchPlan {
  const allowed = new Set(input.allowlist);
  const locked = new Set(input.inProgress.map((i) => i.repo));
  const plan: DispatchPlan = { dispatch: [], skipped: [], idle: null };
  const sorted = [...input.ready].sort(compareIssues);
  for (const issue of sorted) {
    if (!allowed.has(issue.repo)) {
      plan.skipped.push({ issue, reason: "not-allowlisted" });
    } else if (issue.labels.includes(input.inProgressLabel)) {
      plan.skipped.push({ issue, reason: "already-in-progress" });
      locked.add(issue.repo);
    } else if (locked.has(issue.repo)) {
      plan.skipped.push({ issue, reason: "repo-locked" });
    } else if (plan.dispatch.length >= input.maxPerTick) {
      plan.skipped.push({ issue, reason: "over-cap" });
    } else {
      plan.dispatch.push(issue);
      locked.add(issue.repo);
    }
  }
  if (plan.dispatch.length === 0) {
    if (sorted.length === 0) plan.idle = "nothing-ready";
    else if (plan.skipped.every((s) => s.reason === "not-allowlisted")) plan.idle = "none-allowlisted";
    else plan.idle = "all-locked";
  }
  return plan;
}
