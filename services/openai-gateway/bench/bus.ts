/**
 * What the authenticated bus adds to a completion: the same gateway and instant executor on a
 * nats-server with the bus's users and permissions (each on its own user, every publish and
 * subscribe checked against its permissions) and on an open one, in one run; requests alternate
 * between the two, in alternating order. Both gateways check and count the caller policy.
 *
 *   cd services/openai-gateway && BENCH_RUNS=500 ../../node_modules/.bin/tsx bench/bus.ts
 */
import { type NatsServer, startNatsServer, tempDir } from "@claude-gateway/testkit";
import pino from "pino";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { loadConfig } from "../src/config.js";
import { type RunningGateway, startGateway } from "../src/start.js";
import { instantExecutor } from "./instant-executor.js";
import { clientOf, interleaved, printOnOff, TOKEN, writeGenerousPolicy } from "./on-off.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 500);
const WARMUP = 30;
const TARGET_MS = 1;

// An open bus: this measures the policy alone (bench/bus.ts measures the bus's authentication).
const open = await startNatsServer({ bus: false });
const secured = await startNatsServer({ bus: { anonymous: false } });
const dir = await tempDir("cg-bench-bus-");
const executors = [
  await instantExecutor(open.optionsOf("executor")),
  await instantExecutor(secured.optionsOf("executor")),
];
const gateways: RunningGateway[] = [];
try {
  const policy = await writeGenerousPolicy(dir.dir);
  const start = (nats: NatsServer) =>
    startGateway(
      loadConfig({
        ...nats.envOf("openai-gateway"),
        AUTH_TOKENS: `bench=${TOKEN}`,
        PORT: "0",
        LOG_LEVEL: "silent",
        CALLER_POLICY_FILE: policy,
      }),
      { logger: pino({ level: "silent" }), hostname: "127.0.0.1" },
    );
  const on = await start(secured);
  const off = await start(open);
  gateways.push(on, off);
  const authenticated = clientOf(on);
  const unauthenticated = clientOf(off);

  const { onMs, offMs } = await interleaved(authenticated, unauthenticated, RUNS, WARMUP);

  printOnOff({
    title: "openai-gateway: an authenticated bus with per-user permissions vs an open one, same requests",
    setting: "two real nats-servers, gateways in one process, an executor that answers at once",
    runs: RUNS,
    labels: {
      off: "open bus (no users)",
      on: "authenticated bus (users + permissions)",
      added: "  added by the bus's auth (paired diff.)",
    },
    onMs,
    offMs,
    targetMs: TARGET_MS,
  });
} finally {
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all(executors.map((e) => e.close()));
  await open.stop();
  await secured.stop();
  await dir.cleanup();
}
