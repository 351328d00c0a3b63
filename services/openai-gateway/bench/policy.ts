/**
 * What the caller policy adds to a completion: the check and the counter updates in NATS KV
 * (today's spend, the in-flight lease, the minute's count; the lease given back at the end),
 * against the same requests with no admission at all, in one run. Two gateways in this process
 * share a real nats-server and an executor that answers at once (no CLI: its seconds would bury
 * the milliseconds measured here); requests alternate between them, in alternating order.
 *
 *   cd services/openai-gateway && BENCH_RUNS=500 ../../node_modules/.bin/tsx bench/policy.ts
 */
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  type JobEvent,
  type JobRecord,
  JobRef,
  JobReply,
  JobSubmission,
  jobIdFor,
  SubmitReply,
  subjects,
} from "@claude-gateway/contracts";
import { addService, callerOfRequest, encodeJson, serveEndpoint } from "@claude-gateway/nats";
import type { PolicyGate, Ticket } from "@claude-gateway/policy";
import { startNatsServer, tempDir } from "@claude-gateway/testkit";
import { connect } from "@nats-io/transport-node";
import OpenAI from "openai";
import pino from "pino";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { describeMachine } from "../../../bench/lib/machine.js";
import { median, pairedDifferences, percentile } from "../../../bench/lib/stats.js";
import { formatTable } from "../../../bench/lib/table.js";
import { loadConfig } from "../src/config.js";
import { type RunningGateway, startGateway } from "../src/start.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 500);
const WARMUP = 30;
const TOKEN = "bench-token-0123456789";
const ANSWER = "Hello from the instant executor.";
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
  metricLabel: () => "other",
};

/** The executor's NATS endpoints, answering at once: a job is done as soon as it is submitted. */
async function instantExecutor(natsUrl: string) {
  const nc = await connect({ servers: natsUrl });
  const jobs = new Map<string, JobRecord>();
  const svc = await addService(nc, { name: "instant-executor", version: "1.0.0", description: "bench" });
  const at = new Date().toISOString();
  const publish = (caller: string, jobId: string, seq: number, body: Record<string, unknown>) =>
    nc.publish(subjects.jobs.events(caller, jobId), encodeJson({ jobId, seq, at, ...body } as JobEvent));
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.admit,
    name: "admit",
    request: JobSubmission,
    response: SubmitReply,
    handler: async (s, ctx) => {
      const caller = callerOfRequest(ctx.subject, s.caller);
      // As the executor mints it: the gateway listens on this id before submitting.
      const id = s.id !== undefined ? jobIdFor(caller, s.id) : randomUUID();
      const usage = {
        inputTokens: 10,
        outputTokens: 5,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      };
      const queued: JobRecord = {
        id,
        status: "queued",
        agent: s.agent,
        model: s.model ?? "claude-haiku-4-5",
        caller,
        submission: s,
        queuedAt: at,
        attempts: 0,
      };
      jobs.set(id, {
        ...queued,
        status: "succeeded",
        result: { text: ANSWER, sessionId: id, numTurns: 1, permissionDenials: 0 },
        usage,
        costUsd: 0.001,
      });
      // After the reply, as a real job's events are.
      setImmediate(() => {
        publish(caller, id, 0, { type: "status", status: "running" });
        publish(caller, id, 1, { type: "text", delta: ANSWER });
        publish(caller, id, 2, { type: "result", text: ANSWER, sessionId: id, costUsd: 0.001, usage });
        publish(caller, id, 3, { type: "status", status: "succeeded" });
      });
      return { job: queued, duplicate: false };
    },
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.get,
    name: "get",
    request: JobRef,
    response: JobReply,
    handler: async (ref) => {
      const job = jobs.get(ref.id);
      if (!job) throw new Error(`no job ${ref.id}`);
      return { job };
    },
  });
  return { close: () => nc.drain() };
}

async function completion(client: OpenAI): Promise<number> {
  const started = performance.now();
  const c = await client.chat.completions.create({
    model: "claude-haiku-4-5",
    messages: [{ role: "user", content: "Say hello." }],
  });
  const elapsed = performance.now() - started;
  if (c.choices[0]?.message.content !== ANSWER) throw new Error(`unexpected answer: ${JSON.stringify(c)}`);
  return elapsed;
}

const row = (name: string, xs: number[]) => [name, median(xs), percentile(xs, 95), percentile(xs, 99)];

const nats = await startNatsServer();
const dir = await tempDir("cg-bench-policy-");
const executor = await instantExecutor(nats.url);
const gateways: RunningGateway[] = [];
try {
  // Limits no run reaches: every request is checked and counted, none refused.
  const policy = join(dir.dir, "policy.json");
  await writeFile(
    policy,
    JSON.stringify({
      defaults: {
        agents: ["assistant"],
        models: ["claude-haiku-4-5"],
        maxConcurrent: 1000,
        requestsPerMinute: 1_000_000,
        budgetUsdPerDay: 1_000_000,
      },
      callers: { bench: {} },
    }),
  );
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
  const clientOf = (gw: RunningGateway) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
  const withPolicy = clientOf(on);
  const without = clientOf(off);

  for (let i = 0; i < WARMUP; i++) {
    await completion(withPolicy);
    await completion(without);
  }
  const onMs: number[] = [];
  const offMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (i % 2 === 0) {
      onMs.push(await completion(withPolicy));
      offMs.push(await completion(without));
    } else {
      offMs.push(await completion(without));
      onMs.push(await completion(withPolicy));
    }
  }

  const added = pairedDifferences(onMs, offMs);
  console.log(
    "openai-gateway: the caller policy's check and counters (NATS KV) vs no admission, same requests",
  );
  console.log(
    `real nats-server, gateways in one process, an executor that answers at once · ${describeMachine()}`,
  );
  console.log(`${RUNS} non-streaming completions each through the openai SDK, interleaved\n`);
  console.log(
    formatTable(
      ["ms", "p50", "p95", "p99"],
      [
        row("policy off (no admission)", offMs),
        row("policy on (check + counters in KV)", onMs),
        row("  added by the policy (paired diff.)", added),
      ],
      { decimals: 2 },
    ),
  );
  const ratio = median(onMs) / median(offMs);
  const addedP50 = median(added);
  console.log(
    `\np50 ratio on/off: ${ratio.toFixed(2)}× · added at p50: ${addedP50.toFixed(2)} ms ` +
      `(target ≤ ${TARGET_MS} ms: ${addedP50 <= TARGET_MS ? "met" : "NOT met"})`,
  );
} finally {
  await Promise.all(gateways.map((g) => g.stop()));
  await executor.close();
  await nats.stop();
  await dir.cleanup();
}
