import { buckets } from "@claude-gateway/contracts";
import { ensureKv, kvGetJson, kvUpdateJson } from "@claude-gateway/nats";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import AsyncLock from "async-lock";
import { z } from "zod";
import {
  liveLeases,
  secondsUntilNextMinute,
  secondsUntilNextUtcDay,
  utcDay,
  utcMinute,
} from "./admission.js";
import { DailyBudgetExceededError, RateLimitedError, TooManyInFlightError } from "./errors.js";
import type { EffectiveLimits } from "./policy.js";

/** What a caller has used: today's spend, what runs now, requests this minute. */
export interface UsageSnapshot {
  spentUsdToday: number;
  inFlight: number;
  requestsThisMinute: number;
}

export interface AdmitRequest {
  principal: string;
  limits: EffectiveLimits;
  /** The job or turn this admission is for; `release` with it when the work ends. */
  leaseId: string;
  /** How long the lease holds if nobody releases it (a replica that died mid-run). */
  leaseMs: number;
  now: Date;
  /**
   * For leases that outlive their holder's memory (queued jobs): asked, when the caller is at its
   * limit, whether a lease still stands for live work; a lease that does not is dropped.
   */
  isLive?: (leaseId: string) => Promise<boolean>;
}

/**
 * The counters every replica enforces the policy with. `admit` checks, in this order, the daily
 * budget, the in-flight limit and the request rate, and on success holds an in-flight lease and
 * counts the request; it throws the 429 that applies otherwise.
 */
export interface PolicyCounters {
  admit(request: AdmitRequest): Promise<{ spentUsdToday: number }>;
  release(principal: string, leaseId: string): Promise<void>;
  /** Adds a run's cost (failed runs too) to the caller's day. */
  recordSpend(principal: string, usd: number, now: Date): Promise<void>;
  usage(principal: string, now: Date): Promise<UsageSnapshot>;
  /** Every caller with spend today or work in flight (for an admin's view). */
  active(now: Date): Promise<string[]>;
}

const Leases = z.object({ leases: z.record(z.string(), z.number()) });
const Count = z.object({ count: z.number().int().nonnegative() });
const Spend = z.object({ usd: z.number().nonnegative() });

/** How long a bucket keeps a rate window or a day's spend (KV TTLs are per bucket on 2.9). */
export const RATE_TTL_MS = 2 * 60_000;
export const SPEND_TTL_MS = 3 * 24 * 3_600_000;

export interface CounterBuckets {
  /** `<principal>` → its leases (no TTL: leases lapse on their own). */
  inFlight: KV;
  /** `<principal>.<yyyymmddHHMM>` → requests that minute (TTL `RATE_TTL_MS`). */
  rate: KV;
  /** `<principal>.<yyyy-mm-dd>` → spend that UTC day (TTL `SPEND_TTL_MS`). */
  spend: KV;
}

/** The counters in NATS KV, updated with revision checks so replicas never lose a count. */
export function natsPolicyCounters(kv: CounterBuckets): PolicyCounters {
  // One caller's counters change one write at a time on this replica. A burst of one caller's
  // requests would otherwise race for the same keys and mostly retry each other out (measured: 500
  // at once, 30 conflicts each, the refusals answered after ~40 s or as errors). Other replicas
  // still race with this one; the revision checks keep the counts exact.
  const serial = new AsyncLock({ maxPending: Number.POSITIVE_INFINITY });
  const oneAtATime = <T>(principal: string, work: () => Promise<T>): Promise<T> =>
    serial.acquire(principal, work);

  const spentToday = async (principal: string, now: Date) =>
    (await kvGetJson(kv.spend, `${principal}.${utcDay(now)}`, Spend))?.value.usd ?? 0;

  /** Unserialized: `admit` gives a lease back while it holds the caller's turn. */
  const releaseNow = async (principal: string, leaseId: string) => {
    await kvUpdateJson(kv.inFlight, principal, Leases, (current) => {
      const leases = { ...(current?.leases ?? {}) };
      delete leases[leaseId];
      return { leases };
    });
  };
  const release = (principal: string, leaseId: string) =>
    oneAtATime(principal, () => releaseNow(principal, leaseId));

  const admit = async (req: AdmitRequest): Promise<{ spentUsdToday: number }> => {
    const { principal, limits, now } = req;
    const spent = await spentToday(principal, now);
    if (spent >= limits.budgetUsdPerDay) {
      throw new DailyBudgetExceededError(spent, limits.budgetUsdPerDay, secondsUntilNextUtcDay(now));
    }

    // In flight: drop lapsed leases; at the limit, ask whether the oldest still stand.
    const current = (await kvGetJson(kv.inFlight, principal, Leases))?.value.leases ?? {};
    let dead = new Set<string>();
    const live = liveLeases(current, now.getTime());
    if (Object.keys(live).length >= limits.maxConcurrent && req.isLive) {
      const checks = await Promise.all(
        Object.keys(live).map(async (id) => [id, await req.isLive!(id)] as const),
      );
      dead = new Set(checks.filter(([, ok]) => !ok).map(([id]) => id));
    }
    await kvUpdateJson(kv.inFlight, principal, Leases, (cur) => {
      const leases = liveLeases(cur?.leases ?? {}, now.getTime());
      for (const id of dead) delete leases[id];
      if (Object.keys(leases).length >= limits.maxConcurrent && !(req.leaseId in leases)) {
        throw new TooManyInFlightError(limits.maxConcurrent, 5);
      }
      return { leases: { ...leases, [req.leaseId]: now.getTime() + req.leaseMs } };
    });

    // The rate counts admitted requests only; over it, the lease just taken is given back.
    try {
      await kvUpdateJson(kv.rate, `${principal}.${utcMinute(now)}`, Count, (cur) => {
        const count = cur?.count ?? 0;
        if (count >= limits.requestsPerMinute) {
          throw new RateLimitedError(limits.requestsPerMinute, secondsUntilNextMinute(now));
        }
        return { count: count + 1 };
      });
    } catch (err) {
      await releaseNow(principal, req.leaseId).catch(() => {});
      throw err;
    }
    return { spentUsdToday: spent };
  };

  return {
    admit: (req) => oneAtATime(req.principal, () => admit(req)),

    release,

    recordSpend: (principal, usd, now) =>
      oneAtATime(principal, async () => {
        if (!(usd > 0)) return;
        await kvUpdateJson(kv.spend, `${principal}.${utcDay(now)}`, Spend, (cur) => ({
          usd: (cur?.usd ?? 0) + usd,
        }));
      }),

    async usage(principal, now) {
      const [spent, leases, rate] = await Promise.all([
        spentToday(principal, now),
        kvGetJson(kv.inFlight, principal, Leases),
        kvGetJson(kv.rate, `${principal}.${utcMinute(now)}`, Count),
      ]);
      return {
        spentUsdToday: spent,
        inFlight: Object.keys(liveLeases(leases?.value.leases ?? {}, now.getTime())).length,
        requestsThisMinute: rate?.value.count ?? 0,
      };
    },

    async active(now) {
      const day = `.${utcDay(now)}`;
      const found = new Set<string>();
      for await (const key of await kv.spend.keys(`*${day}`)) found.add(key.slice(0, -day.length));
      for await (const key of await kv.inFlight.keys()) {
        const leases = (await kvGetJson(kv.inFlight, key, Leases))?.value.leases ?? {};
        if (Object.keys(liveLeases(leases, now.getTime())).length > 0) found.add(key);
      }
      return [...found].sort();
    },
  };
}

/** Opens (creating if needed) the three counter buckets every replica shares. */
export async function ensureCounterBuckets(js: JetStreamClient): Promise<CounterBuckets> {
  const [inFlight, rate, spend] = await Promise.all([
    ensureKv(js, buckets.policyInFlight, { history: 1 }),
    ensureKv(js, buckets.policyRate, { history: 1, ttlMs: RATE_TTL_MS }),
    ensureKv(js, buckets.policySpend, { history: 1, ttlMs: SPEND_TTL_MS }),
  ]);
  return { inFlight, rate, spend };
}
