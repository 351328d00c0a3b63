/**
 * What the caller policy adds to a completion: the check and the counter updates in NATS KV
 * (today's spend, the in-flight lease, the minute's count; the lease given back at the end),
 * against the same requests with no admission at all, in one run. Two gateways in this process
 * share a real nats-server and an executor that answers at once (no CLI: its seconds would bury
 * the milliseconds measured here); requests alternate between them, in alternating order.
 *
 *   cd services/openai-gateway && BENCH_RUNS=500 ../../node_modules/.bin/tsx bench/policy.ts
 */
import type { PolicyGate, Ticket } from "@claude-gateway/policy";
import { startNatsServer, tempDir } from "@claude-gateway/testkit";
import pino from "pino";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { loadConfig } from "../src/config.js";
import { type RunningGateway, startGateway } from "../src/start.js";
import { instantExecutor } from "./instant-executor.js";
import { clientOf, interleaved, printOnOff, TOKEN, writeGenerousPolicy } from "./on-off.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 500);
const WARMUP = 30;
const TARGET_MS = 2;

/** Policy off: every request admitted, nothing checked, nothing counted. */
const noAdmission: PolicyGate = {
  limitsFor: () => {
    throw new Error("not used by the gateway");
  },
  admit: async (): Promise<Ticket> => ({
    leaseId: "none",
    budgetLeftUsd: Number.POSITIVE_INFINITY,
    capBudget: (requested) => requested,
    release: async () => {},
  }),
  recordSpend: async () => {},
  release: async () => {},
  usage: async () => {
    throw new Error("not used by the benchmark");
  },
  usageOfAll: async () => [],
  plan: async () => undefined,
  metricLabel: () => "other",
};

// An open bus: this measures the policy alone (bench/bus.ts measures the bus's authentication).
const nats = await startNatsServer({ bus: false });
const dir = await tempDir("cg-bench-policy-");
const executor = await instantExecutor({ servers: nats.url });
const gateways: RunningGateway[] = [];
try {
  const policy = await writeGenerousPolicy(dir.dir, { bench: {} });
  const start = (gate?: PolicyGate) =>
    startGateway(
      loadConfig({
        NATS_URL: nats.url,
        AUTH_TOKENS: `bench=${TOKEN}`,
        PORT: "0",
        LOG_LEVEL: "silent",
        CALLER_POLICY_FILE: policy,
      }),
      { logger: pino({ level: "silent" }), hostname: "127.0.0.1", ...(gate ? { gate } : {}) },
    );
  const on = await start();
  const off = await start(noAdmission);
  gateways.push(on, off);
  const withPolicy = clientOf(on);
  const without = clientOf(off);

  const { onMs, offMs } = await interleaved(withPolicy, without, RUNS, WARMUP);

  printOnOff({
    title: "openai-gateway: the caller policy's check and counters (NATS KV) vs no admission, same requests",
    setting: "real nats-server, gateways in one process, an executor that answers at once",
    runs: RUNS,
    labels: {
      off: "policy off (no admission)",
      on: "policy on (check + counters in KV)",
      added: "  added by the policy (paired diff.)",
    },
    onMs,
    offMs,
    targetMs: TARGET_MS,
  });
} finally {
  await Promise.all(gateways.map((g) => g.stop()));
  await executor.close();
  await nats.stop();
  await dir.cleanup();
}
