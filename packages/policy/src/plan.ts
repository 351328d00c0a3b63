import {
  applyRateLimit,
  buckets,
  PLAN_KEY,
  type PlanReading,
  PlanState,
  samePlan,
} from "@claude-gateway/contracts";
import { ensureKv, kvGetJson, kvUpdateJson } from "@claude-gateway/nats";
import { type Logger, silentLogger } from "@claude-gateway/service-kit";
import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";

/**
 * The subscription plan's utilisation, shared by every replica: the services that run the CLI
 * `record` what it reports, every service that admits requests reads `current`.
 */
export interface PlanStore {
  /** The plan's latest state; undefined while no CLI reported one (an API-key login never does). */
  current(): Promise<PlanState | undefined>;
  /** Folds one report in, observed at `observedAt`; writes only if it changed what is known. */
  record(reading: PlanReading, observedAt: Date): Promise<void>;
}

/**
 * The state after a report, or undefined when there is nothing to write: the report says what is
 * already known, or it is older than what is known (reports of several processes and replicas
 * arrive out of order; the newest observation wins). Pure.
 */
export function nextPlan(
  current: PlanState | undefined,
  reading: PlanReading,
  observedAt: Date,
): PlanState | undefined {
  if (current && Date.parse(current.observedAt) > observedAt.getTime()) return undefined;
  const next = applyRateLimit(current, reading, observedAt);
  return samePlan(current, next) ? undefined : next;
}

export interface NatsPlanStoreOptions {
  /** How long a read of the record serves `current` (default 1 s): admissions share it. */
  cacheMs?: number;
  /** Monotonic enough for the cache's age. */
  nowMs?: () => number;
  logger?: Logger;
}

/** Thrown inside the revision-checked update to leave the record as it is. */
class Unchanged {
  constructor(readonly state: PlanState | undefined) {}
}

/**
 * The plan's record in NATS KV. `current` is a get cached for `cacheMs` (concurrent callers share
 * one read); a reader whose bucket does not exist yet (no CLI reported anything) sees no state.
 * `record` is a read-modify-write with a revision check, one at a time on this replica, and this
 * replica's `current` sees its own write at once.
 */
export function natsPlanStore(kv: KV, opts: NatsPlanStoreOptions = {}): PlanStore {
  const cacheMs = opts.cacheMs ?? 1_000;
  const nowMs = opts.nowMs ?? (() => performance.now());
  const log = opts.logger ?? silentLogger;
  let cached: { state: PlanState | undefined; at: number } | undefined;
  let reading: Promise<PlanState | undefined> | undefined;
  let writes: Promise<unknown> = Promise.resolve();

  const read = async (): Promise<PlanState | undefined> => {
    try {
      const state = (await kvGetJson(kv, PLAN_KEY, PlanState))?.value;
      cached = { state, at: nowMs() };
      return state;
    } catch (err) {
      // The store away, or no bucket yet: what was known stays (none at first), read again next time.
      log.debug({ err }, "could not read the plan's state");
      return cached?.state;
    }
  };

  const write = async (report: PlanReading, observedAt: Date) => {
    try {
      const { value } = await kvUpdateJson(kv, PLAN_KEY, PlanState, (current) => {
        const next = nextPlan(current, report, observedAt);
        if (next === undefined) throw new Unchanged(current);
        return next;
      });
      cached = { state: value, at: nowMs() };
    } catch (err) {
      if (!(err instanceof Unchanged)) throw err;
      cached = { state: err.state, at: nowMs() };
    }
  };

  return {
    current() {
      if (cached && nowMs() - cached.at < cacheMs) return Promise.resolve(cached.state);
      reading ??= read().finally(() => {
        reading = undefined;
      });
      return reading;
    },
    record(report, observedAt) {
      const done = writes.then(() => write(report, observedAt));
      writes = done.catch(() => {});
      return done;
    },
  };
}

/** The plan's bucket for a service that records it (creating it if needed). */
export function ensurePlanBucket(js: JetStreamClient): Promise<KV> {
  return ensureKv(js, buckets.plan, { history: 1 });
}

/**
 * The plan's bucket for a service that only reads it (no permission to create it): bound by name,
 * so a bucket that appears later, when a CLI first reports, is read from then on.
 */
export function openPlanBucket(js: JetStreamClient): Promise<KV> {
  return new Kvm(js).open(buckets.plan);
}
