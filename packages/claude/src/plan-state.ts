import { applyRateLimit, type PlanState } from "@claude-gateway/contracts";
import type { RunEvent } from "./translate.js";

/**
 * Folds a run's events (or many runs', in the order they arrived) into the plan's state, each
 * `rate_limit` event observed at `observedAt`. Pure. The state, its schema and what it means for
 * admission (`applyRateLimit`, `planLimit`) live in the contracts package: every service shares them.
 */
export function planState(
  events: Iterable<RunEvent>,
  initial?: PlanState,
  observedAt: Date = new Date(),
): PlanState | undefined {
  let state = initial;
  for (const ev of events) if (ev.type === "rate_limit") state = applyRateLimit(state, ev, observedAt);
  return state;
}
