import type { PlanReading, PlanState } from "@claude-gateway/contracts";
import {
  liveLeases,
  secondsUntilNextMinute,
  secondsUntilNextUtcDay,
  utcDay,
  utcMinute,
} from "./admission.js";
import type { PolicyCounters } from "./counters.js";
import { DailyBudgetExceededError, RateLimitedError, TooManyInFlightError } from "./errors.js";
import type { PolicySource } from "./load.js";
import { nextPlan, type PlanStore } from "./plan.js";
import { CallerPolicy } from "./policy.js";
import type { CallerPolicyFile } from "./schema.js";

/** A fixed policy from a file's content, for tests. */
export function staticPolicy(file: CallerPolicyFile = {}): PolicySource {
  const policy = new CallerPolicy(file, "test");
  return { current: () => policy, close: () => {} };
}

/** The counters in memory, with the same rules as the NATS ones (one conformance suite runs both). */
export function memoryPolicyCounters(): PolicyCounters {
  const leases = new Map<string, Record<string, number>>();
  const rate = new Map<string, number>();
  const spend = new Map<string, number>();
  const spentToday = (p: string, now: Date) => spend.get(`${p}.${utcDay(now)}`) ?? 0;
  return {
    async admit(req) {
      const { principal, limits, now } = req;
      const spent = spentToday(principal, now);
      if (spent >= limits.budgetUsdPerDay) {
        throw new DailyBudgetExceededError(spent, limits.budgetUsdPerDay, secondsUntilNextUtcDay(now));
      }
      const live = liveLeases(leases.get(principal) ?? {}, now.getTime());
      if (Object.keys(live).length >= limits.maxConcurrent && req.isLive) {
        for (const id of Object.keys(live)) if (!(await req.isLive(id))) delete live[id];
      }
      if (Object.keys(live).length >= limits.maxConcurrent && !(req.leaseId in live)) {
        throw new TooManyInFlightError(limits.maxConcurrent, 5);
      }
      const key = `${principal}.${utcMinute(now)}`;
      const count = rate.get(key) ?? 0;
      if (count >= limits.requestsPerMinute) {
        throw new RateLimitedError(limits.requestsPerMinute, secondsUntilNextMinute(now));
      }
      rate.set(key, count + 1);
      leases.set(principal, { ...live, [req.leaseId]: now.getTime() + req.leaseMs });
      return { spentUsdToday: spent };
    },
    async release(principal, leaseId) {
      const own = { ...(leases.get(principal) ?? {}) };
      delete own[leaseId];
      leases.set(principal, own);
    },
    async recordSpend(principal, usd, now) {
      if (!(usd > 0)) return;
      const key = `${principal}.${utcDay(now)}`;
      spend.set(key, (spend.get(key) ?? 0) + usd);
    },
    async usage(principal, now) {
      return {
        spentUsdToday: spentToday(principal, now),
        inFlight: Object.keys(liveLeases(leases.get(principal) ?? {}, now.getTime())).length,
        requestsThisMinute: rate.get(`${principal}.${utcMinute(now)}`) ?? 0,
      };
    },
    async active(now) {
      const day = `.${utcDay(now)}`;
      const found = new Set<string>();
      for (const key of spend.keys()) if (key.endsWith(day)) found.add(key.slice(0, -day.length));
      for (const [p, l] of leases) if (Object.keys(liveLeases(l, now.getTime())).length > 0) found.add(p);
      return [...found].sort();
    },
  };
}

/** The plan's record in memory, with the NATS store's rules; `writes` counts what changed it. */
export interface MemoryPlanStore extends PlanStore {
  readonly writes: number;
  /** Sets the record as another replica's write would. */
  set(state: PlanState | undefined): void;
}

export function memoryPlanStore(initial?: PlanState): MemoryPlanStore {
  let state = initial;
  let writes = 0;
  return {
    get writes() {
      return writes;
    },
    set(next) {
      state = next;
    },
    current: async () => state,
    async record(reading: PlanReading, observedAt: Date) {
      const next = nextPlan(state, reading, observedAt);
      if (next === undefined) return;
      state = next;
      writes++;
    },
  };
}
