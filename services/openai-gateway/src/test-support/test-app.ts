import { type AuthConfig, createAuth } from "@claude-gateway/auth";
import { type CallerPolicyFile, createPolicyGate, type PolicyCounters } from "@claude-gateway/policy";
import { type MemoryPlanStore, memoryPolicyCounters, staticPolicy } from "@claude-gateway/policy/testing";
import pino from "pino";
import type { ImageResolver } from "../adapters/image-fetch.js";
import { type AppDeps, createApp, onAuthError } from "../app.js";
import { InFlight } from "../inflight.js";
import { createMetrics } from "../metrics.js";
import { fakeExecutor } from "./fake-executor.js";

/** The unit tests' shared fixture: the app from its real parts, on the fake executor. */

export const TEST_TOKEN = "test-token-0123456789";
export const METRICS_TOKEN = "metrics-token-0123456789";
export const TEST_MODELS = {
  supported: ["claude-haiku-4-5", "claude-sonnet-4-6"],
  defaultModel: "claude-sonnet-4-6",
};
/** The clock the app reads, unless a test gives its own. */
export const TEST_NOW = new Date("2026-01-02T03:04:05Z");
/** The principal of the `tester` token. */
export const TESTER = "tok_tester";

/** Tests not about the policy run under one that lets their callers do everything they do. */
export function openPolicy(callers: readonly string[] = ["tester"]): CallerPolicyFile {
  return {
    defaults: {
      agents: ["assistant", "general"],
      models: TEST_MODELS.supported,
      maxConcurrent: 100,
      requestsPerMinute: 1000,
      budgetUsdPerDay: 1000,
    },
    callers: Object.fromEntries(callers.map((name) => [name, {}])),
  };
}

export interface TestAppOptions {
  /** Default: the `tester` token alone. */
  auth?: AuthConfig;
  /** Also take the token in this header (the Messages API's `x-api-key`). */
  apiKeyHeader?: string;
  /** Default: {@link openPolicy} (the `tester` caller). */
  policy?: CallerPolicyFile;
  counters?: PolicyCounters;
  /** The plan's record; the gate then reads the time as `now`. */
  plan?: MemoryPlanStore;
  ready?: boolean;
  idleMs?: number;
  holdMs?: number;
  maxBodyBytes?: number;
  job?: { repo?: string; ref?: string };
  now?: Date;
  /** The ids the app hands out, given the count so far (1, 2, …). */
  newId?: (n: number) => string;
  images?: ImageResolver;
}

export function testApp(opts: TestAppOptions = {}) {
  const executor = fakeExecutor();
  const auth = opts.auth ?? { tokens: [{ name: "tester", token: TEST_TOKEN }] };
  const counters = opts.counters ?? memoryPolicyCounters();
  const now = opts.now ?? TEST_NOW;
  const gate = createPolicyGate({
    policy: staticPolicy(opts.policy ?? openPolicy()),
    counters,
    ...(opts.plan ? { plan: opts.plan, now: () => now } : {}),
  });
  const metrics = createMetrics(gate);
  const inflight = new InFlight();
  let n = 0;
  const deps: AppDeps = {
    executor,
    gate,
    auth: createAuth(auth, {
      onError: onAuthError,
      ...(opts.apiKeyHeader ? { apiKeyHeader: opts.apiKeyHeader } : {}),
    }),
    logger: pino({ level: "silent" }),
    metrics,
    models: TEST_MODELS,
    job: { agent: "assistant", budgetUsd: 2, timeoutSeconds: 900, ...opts.job },
    readiness: () =>
      opts.ready === false ? { ready: false, reason: "NATS is not connected" } : { ready: true },
    metricsToken: METRICS_TOKEN,
    inflight,
    idleMs: opts.idleMs ?? 60_000,
    holdMs: opts.holdMs ?? 60_000,
    now: () => now,
    newId: () => (opts.newId ?? ((k: number) => `u${k}`))(++n),
    ...(opts.images ? { images: opts.images } : {}),
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  };
  return { app: createApp(deps), executor, metrics, inflight, gate, counters };
}
