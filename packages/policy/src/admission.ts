import { AgentNotAllowedError, ModelNotAllowedError } from "./errors.js";
import type { EffectiveLimits } from "./policy.js";

/** Refuses an agent or a model the caller's policy does not list (403). Pure. */
export function checkAccess(limits: EffectiveLimits, request: { agent?: string; model?: string }): void {
  if (request.agent !== undefined && !limits.agents.includes(request.agent)) {
    throw new AgentNotAllowedError(request.agent, limits.agents);
  }
  if (request.model !== undefined && !limits.models.includes(request.model)) {
    throw new ModelNotAllowedError(request.model, limits.models);
  }
}

/** The UTC day a spend counts toward: `2026-12-04`. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The minute a request counts toward: `202612040931`. */
export function utcMinute(now: Date): string {
  return now.toISOString().slice(0, 16).replace(/[-T:]/g, "");
}

/** Whole seconds (at least 1) until the next UTC midnight. */
export function secondsUntilNextUtcDay(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

/** Whole seconds (at least 1) until the next minute starts. */
export function secondsUntilNextMinute(now: Date): number {
  return Math.max(1, Math.ceil((60_000 - (now.getTime() % 60_000)) / 1000));
}

/**
 * A run's `--max-budget-usd`: what it asked for, but never more than what is left of the caller's
 * day. Undefined when the caller asked for none and nothing limits it.
 */
export function capBudget(requestedUsd: number | undefined, leftTodayUsd: number): number | undefined {
  if (!Number.isFinite(leftTodayUsd)) return requestedUsd;
  return requestedUsd === undefined ? leftTodayUsd : Math.min(requestedUsd, leftTodayUsd);
}

/** In-flight leases, id → when it lapses (ms since epoch), without the lapsed ones. */
export function liveLeases(leases: Readonly<Record<string, number>>, nowMs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(leases).filter(([, until]) => until > nowMs));
}
