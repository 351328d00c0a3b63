import type { PlanWindow, RateLimitRunEvent, RateLimitWindow, RunEvent } from "./translate.js";

/**
 * What the CLI last said about a subscription plan's usage limits. The CLI prints a
 * `rate_limit_event` only when this changes, so the latest reading of each window stays true until
 * the next one.
 */
export interface PlanState {
  /** The latest verdict for the plan as a whole: `allowed`, `allowed_warning` or `rejected`. */
  status: string;
  /** The window that decided `status`. */
  window: PlanWindow | undefined;
  /** Unix seconds when that window resets. */
  resetsAt: number | undefined;
  usingOverage: boolean;
  /** The latest reading of every window ever reported, by window name. */
  windows: Readonly<Record<string, RateLimitWindow>>;
}

/** The state after one more `rate_limit` event. Pure. */
export function applyRateLimit(state: PlanState | undefined, ev: RateLimitRunEvent): PlanState {
  const windows = { ...state?.windows };
  for (const w of ev.windows) windows[w.window] = w;
  return {
    status: ev.status,
    window: ev.window,
    resetsAt: ev.resetsAt,
    usingOverage: ev.usingOverage,
    windows,
  };
}

/** Folds a run's events (or many runs', in the order they arrived) into the plan's state. Pure. */
export function planState(events: Iterable<RunEvent>, initial?: PlanState): PlanState | undefined {
  let state = initial;
  for (const ev of events) if (ev.type === "rate_limit") state = applyRateLimit(state, ev);
  return state;
}

export type PlanLimit =
  | { atLimit: false }
  | {
      atLimit: true;
      /** The window whose reset ends the refusal (the latest one, if several are exhausted). */
      window: PlanWindow | undefined;
      /** Unix seconds. */
      resetsAt: number;
      /** Whole seconds until `resetsAt`, at least 1: the `Retry-After` to answer with. */
      retryAfterSeconds: number;
    };

/**
 * Whether the plan refuses requests at `nowMs`: its latest verdict is `rejected`, extra usage does
 * not pay for the overflow, and a reset time lies ahead. The wait is until the latest reset among the
 * plan's own and its rejected windows', since every exhausted window must clear. A rejection with no
 * reset time (a 429 without the plan headers: the API's own throttling, which the CLI retries) or one
 * whose reset has passed is not a plan limit.
 */
export function planLimit(state: PlanState | undefined, nowMs: number): PlanLimit {
  if (state?.status !== "rejected" || state.usingOverage) return { atLimit: false };
  const now = nowMs / 1000;
  const resets: Array<{ window: PlanWindow | undefined; resetsAt: number }> = [];
  if (state.resetsAt !== undefined) resets.push({ window: state.window, resetsAt: state.resetsAt });
  for (const w of Object.values(state.windows)) {
    if (w.status === "rejected" && w.resetsAt !== undefined)
      resets.push({ window: w.window, resetsAt: w.resetsAt });
  }
  const latest = resets
    .filter((r) => r.resetsAt > now)
    .reduce<(typeof resets)[number] | undefined>(
      (a, r) => (a && a.resetsAt >= r.resetsAt ? a : r),
      undefined,
    );
  if (!latest) return { atLimit: false };
  return {
    atLimit: true,
    window: latest.window,
    resetsAt: latest.resetsAt,
    retryAfterSeconds: Math.max(1, Math.ceil(latest.resetsAt - now)),
  };
}
