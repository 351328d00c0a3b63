import { z } from "zod";

/**
 * The subscription plan's utilisation as the Claude CLI reports it (`rate_limit_event` lines, under
 * an OAuth login only): one record every service that runs the CLI keeps up to date and every
 * service that admits requests reads (README: "Plan utilisation").
 */

/** The key of the one record in `buckets.plan`. */
export const PLAN_KEY = "state";

/** The latest reading of one usage window (`five_hour`, `seven_day`, …). */
export const PlanWindowState = z.object({
  /** Share of the window's allowance used, as the API reports it: 0..1, 1 = at the limit. */
  utilization: z.number().optional(),
  /** Unix seconds. */
  resetsAt: z.number().optional(),
  /** `allowed`, `allowed_warning` or `rejected`. */
  status: z.string().optional(),
});
export type PlanWindowState = z.infer<typeof PlanWindowState>;

/** The plan's state: the value of `buckets.plan` / `PLAN_KEY`. */
export const PlanState = z.object({
  /** The latest verdict for the plan as a whole: `allowed`, `allowed_warning` or `rejected`. */
  status: z.string(),
  /** The window that decided `status`. */
  window: z.string().optional(),
  /** Unix seconds when that window resets. */
  resetsAt: z.number().optional(),
  /** Requests past the limit are served anyway, paid by extra usage. */
  usingOverage: z.boolean(),
  /** The latest reading of every window ever reported, by window name. */
  windows: z.record(z.string(), PlanWindowState),
  /** When a CLI reported this state (ISO 8601). The CLI reports only changes, so it stays true until the next. */
  observedAt: z.iso.datetime({ offset: true }),
});
export type PlanState = z.infer<typeof PlanState>;

/**
 * One report of the CLI (the claude package's `rate_limit` run event has this shape): the verdict,
 * the deciding window, and the windows the API's headers named.
 */
export interface PlanReading {
  status: string;
  window?: string | undefined;
  resetsAt?: number | undefined;
  usingOverage: boolean;
  windows: ReadonlyArray<{
    window: string;
    utilization?: number | undefined;
    resetsAt?: number | undefined;
    status?: string | undefined;
  }>;
}

/**
 * The state after one more reading, observed at `observedAt`. Pure. The verdict is replaced; the
 * windows the reading names are replaced and the others kept (a reading without its window list
 * still leaves the last known utilisation of each).
 */
export function applyRateLimit(
  state: PlanState | undefined,
  reading: PlanReading,
  observedAt: Date,
): PlanState {
  const windows: Record<string, PlanWindowState> = { ...state?.windows };
  for (const w of reading.windows) {
    windows[w.window] = defined({ utilization: w.utilization, resetsAt: w.resetsAt, status: w.status });
  }
  return defined({
    status: reading.status,
    window: reading.window,
    resetsAt: reading.resetsAt,
    usingOverage: reading.usingOverage,
    windows,
    observedAt: observedAt.toISOString(),
  }) as PlanState;
}

/** Whether two states say the same about the plan (when they were observed aside). Pure. */
export function samePlan(a: PlanState | undefined, b: PlanState | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const names = new Set([...Object.keys(a.windows), ...Object.keys(b.windows)]);
  return (
    a.status === b.status &&
    a.window === b.window &&
    a.resetsAt === b.resetsAt &&
    a.usingOverage === b.usingOverage &&
    [...names].every((n) => {
      const x = a.windows[n];
      const y = b.windows[n];
      return (
        x !== undefined &&
        y !== undefined &&
        x.utilization === y.utilization &&
        x.resetsAt === y.resetsAt &&
        x.status === y.status
      );
    })
  );
}

export type PlanLimit =
  | { atLimit: false }
  | {
      atLimit: true;
      /** The window whose reset ends the refusal (the latest one, if several are exhausted). */
      window: string | undefined;
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
 * whose reset has passed is not a plan limit. Pure.
 */
export function planLimit(state: PlanState | undefined, nowMs: number): PlanLimit {
  if (state?.status !== "rejected" || state.usingOverage) return { atLimit: false };
  const now = nowMs / 1000;
  const resets: Array<{ window: string | undefined; resetsAt: number }> = [];
  if (state.resetsAt !== undefined) resets.push({ window: state.window, resetsAt: state.resetsAt });
  for (const [window, w] of Object.entries(state.windows)) {
    if (w.status === "rejected" && w.resetsAt !== undefined) resets.push({ window, resetsAt: w.resetsAt });
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

/** The object without its `undefined` fields: what a JSON round trip would leave. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
