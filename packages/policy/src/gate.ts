import { randomUUID } from "node:crypto";
import { type PlanState, planLimit } from "@claude-gateway/contracts";
import { capBudget, checkAccess } from "./admission.js";
import type { PolicyCounters, UsageSnapshot } from "./counters.js";
import { PlanLimitReachedError } from "./errors.js";
import type { PolicySource } from "./load.js";
import type { PlanStore } from "./plan.js";
import type { EffectiveLimits } from "./policy.js";

/** An admitted request: its budget cap, and the in-flight slot to give back when it ends. */
export interface Ticket {
  leaseId: string;
  /** What is left of the caller's day: a run's `--max-budget-usd` never exceeds it. */
  budgetLeftUsd: number;
  /** The run's `--max-budget-usd`: what it asked for, capped at what is left. */
  capBudget(requestedUsd: number | undefined): number | undefined;
  /** Gives the in-flight slot back (idempotent). */
  release(): Promise<void>;
}

/** What `GET /v1/usage` shows a caller: its limits and what it has used. */
export interface UsageView extends UsageSnapshot {
  caller: string;
  admin: boolean;
  agents: string[];
  models: string[];
  maxConcurrent: number;
  requestsPerMinute: number;
  budgetUsdPerDay: number;
  budgetLeftUsd: number;
  /** The subscription plan every caller shares (absent where the service knows of no plan). */
  plan?: PlanView;
}

/** The subscription plan's utilisation, and whether it refuses requests now. */
export interface PlanView {
  /** What the CLI last reported; null while none did (an API-key login never reports). */
  state: PlanState | null;
  atLimit: boolean;
  /** At the limit: unix seconds when it ends, and the `Retry-After` until then. */
  resetsAt?: number;
  retryAfterSeconds?: number;
}

/** The policy and its counters, as a service uses them for every request. */
export interface PolicyGate {
  limitsFor(principal: string): EffectiveLimits;
  /**
   * Checks a request against the caller's policy (403 for an agent or model it may not use), then
   * the plan (429 `plan_limit_reached` while it is at its limit), then the caller's counters (429
   * over its budget, in-flight limit or rate), and counts it once.
   */
  admit(
    principal: string,
    request: {
      agent?: string;
      model?: string;
      /** Default: a fresh id. A job passes its own, so its lease can be checked against its record. */
      leaseId?: string;
      leaseMs: number;
      isLive?: (leaseId: string) => Promise<boolean>;
    },
  ): Promise<Ticket>;
  /** Adds a run's cost to the caller's day (every run, failed ones too). */
  recordSpend(principal: string, usd: number): Promise<void>;
  /** Gives back a lease taken by another replica or an earlier process (a job that ended). */
  release(principal: string, leaseId: string): Promise<void>;
  usage(principal: string): Promise<UsageView>;
  /** Every caller the policy names or that used something today (admins see this), without the plan. */
  usageOfAll(): Promise<UsageView[]>;
  /** The plan's utilisation, or undefined when the gate has no plan store. */
  plan(): Promise<PlanView | undefined>;
  metricLabel(principal: string): string;
}

export function createPolicyGate(deps: {
  policy: PolicySource;
  counters: PolicyCounters;
  /** The shared subscription plan: while it is at its limit, nothing is admitted. */
  plan?: Pick<PlanStore, "current">;
  now?: () => Date;
}): PolicyGate {
  const now = deps.now ?? (() => new Date());
  const limitsFor = (principal: string) => deps.policy.current().limitsFor(principal);

  const plan = async (): Promise<PlanView | undefined> => {
    if (!deps.plan) return undefined;
    const state = await deps.plan.current();
    const limit = planLimit(state, now().getTime());
    return {
      state: state ?? null,
      atLimit: limit.atLimit,
      ...(limit.atLimit ? { resetsAt: limit.resetsAt, retryAfterSeconds: limit.retryAfterSeconds } : {}),
    };
  };

  /** One caller's limits and use; the plan (the same for everyone) only where asked for. */
  const usageOf = async (principal: string, withPlan: boolean): Promise<UsageView> => {
    const limits = limitsFor(principal);
    const [used, planView] = await Promise.all([
      deps.counters.usage(principal, now()),
      withPlan ? plan() : undefined,
    ]);
    return {
      caller: principal,
      admin: limits.admin,
      agents: limits.agents,
      models: limits.models,
      maxConcurrent: limits.maxConcurrent,
      requestsPerMinute: limits.requestsPerMinute,
      budgetUsdPerDay: limits.budgetUsdPerDay,
      budgetLeftUsd: Math.max(0, limits.budgetUsdPerDay - used.spentUsdToday),
      ...used,
      ...(planView ? { plan: planView } : {}),
    };
  };

  return {
    limitsFor,
    async admit(principal, request) {
      const limits = limitsFor(principal);
      checkAccess(limits, request);
      // Before anything is counted: a request the plan refuses would only fail in the CLI.
      if (deps.plan) {
        const limit = planLimit(await deps.plan.current(), now().getTime());
        if (limit.atLimit)
          throw new PlanLimitReachedError(limit.window, limit.resetsAt, limit.retryAfterSeconds);
      }
      const leaseId = request.leaseId ?? randomUUID();
      const { spentUsdToday } = await deps.counters.admit({
        principal,
        limits,
        leaseId,
        leaseMs: request.leaseMs,
        now: now(),
        ...(request.isLive ? { isLive: request.isLive } : {}),
      });
      const left = Math.max(0, limits.budgetUsdPerDay - spentUsdToday);
      let released: Promise<void> | undefined;
      return {
        leaseId,
        budgetLeftUsd: left,
        capBudget: (requested) => capBudget(requested, left),
        release: () => {
          released ??= deps.counters.release(principal, leaseId);
          return released;
        },
      };
    },
    recordSpend: (principal, usd) => deps.counters.recordSpend(principal, usd, now()),
    release: (principal, leaseId) => deps.counters.release(principal, leaseId),
    usage: (principal) => usageOf(principal, true),
    async usageOfAll() {
      const callers = new Set([...deps.policy.current().listed(), ...(await deps.counters.active(now()))]);
      return Promise.all([...callers].sort().map((p) => usageOf(p, false)));
    },
    plan,
    metricLabel: (principal) => deps.policy.current().metricLabel(principal),
  };
}
