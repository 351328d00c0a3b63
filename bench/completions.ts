/**
 * Stateless chat completions, side by side in one run on the same Messages API stub and the same
 * pinned CLI: the raw cold CLI, a competing proxy that spawns the CLI per request
 * (`claude-max-api-proxy` from npm, the pinned CLI first on its PATH), and our gateway → NATS →
 * executor, whose prewarmed CLI processes serve such completions. Latency is to the complete
 * reply, as a non-streaming client sees it; then twelve completions at once, wall time.
 *
 *   pnpm --filter @claude-gateway/executor --filter @claude-gateway/openai-gateway build
 *   pnpm --filter ./bench bench:completions        (BENCH_RUNS, default 15)
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildChildEnv, DEPLOYER_SETTINGS_ONLY } from "@claude-gateway/claude";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import { positiveIntEnv } from "./lib/env.js";
import { timeRawRun } from "./lib/raw-cli.js";
import { echoProblems, startServiceProcess, stopServiceProcess } from "./lib/service-process.js";
import { summarize } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";
import { startBenchWorld } from "./lib/world.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 15);
const CONCURRENT = 12;
const MODEL = "claude-sonnet-4-6";
const PROMPT = "Say ok.";
const ANSWER = "Okay.";
const TOKEN = "bench-token-0123456789";
const METRICS = "bench-metrics-0123456789";
const EXECUTOR_MAIN = fileURLToPath(new URL("../services/executor/dist/main.js", import.meta.url));
const GATEWAY_MAIN = fileURLToPath(new URL("../services/openai-gateway/dist/main.js", import.meta.url));
const AGENTS_DIR = fileURLToPath(new URL("../agents", import.meta.url));
const PEER_MAIN = createRequire(import.meta.url).resolve("claude-max-api-proxy/dist/server/standalone.js");

const world = await startBenchWorld(text(ANSWER));
const { nats, cli } = world;
const ws = await tempDir("cg-bench-compl-ws-");
const work = await tempDir("cg-bench-compl-");
const children: Array<ChildProcess | undefined> = [];

/** One OpenAI-style non-streaming completion; the time to its complete reply. */
async function completion(url: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: PROMPT }] }),
  });
  const body = (await res.json()) as { choices?: Array<{ message?: { content?: string } }> };
  const ms = performance.now() - started;
  if (res.status !== 200 || body.choices?.[0]?.message?.content !== ANSWER)
    throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return ms;
}

/** Twelve completions at once: the wall time until the last reply. */
async function burst(url: string, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, () => completion(url, headers)));
  return performance.now() - started;
}

async function prewarmReady(executorUrl: string, hits: number): Promise<void> {
  // The pool refills once the job that took a process ends; a new completion should find a
  // process whose CLI is ready (it answered `initialize`), as it would at any request rate below
  // one per start-up time.
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${executorUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    const started = Number(
      /executor_prewarm_events_total\{event="ready"\} (\d+)/.exec(await res.text())?.[1] ?? 0,
    );
    if (started > hits) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the prewarmed pool did not refill");
}

try {
  const policy = await writePermissivePolicy(work.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
  const executor = await startServiceProcess(
    EXECUTOR_MAIN,
    {
      ...cli.env,
      NATS_URL: nats.url,
      AUTH_TOKENS: `bench=${TOKEN}`,
      METRICS_TOKEN: METRICS,
      AGENTS_DIR,
      WORKSPACE_ROOT: ws.dir,
      CALLER_POLICY_FILE: policy,
      PORT: "0",
      MAX_CONCURRENCY: String(CONCURRENT),
      MAX_QUEUE_DEPTH: "100",
      PREWARM_POOL_SIZE: "1",
      PREWARM_MAX_KEYS: "1",
      LOG_LEVEL: "info",
    },
    "executor started",
  );
  children.push(executor.child);
  echoProblems(executor.child, "executor");
  const executorUrl = `http://127.0.0.1:${executor.port}`;
  const gateway = await startServiceProcess(
    GATEWAY_MAIN,
    {
      PATH: process.env.PATH ?? "",
      NATS_URL: nats.url,
      AUTH_TOKENS: `bench=${TOKEN}`,
      PORT: "0",
      GATEWAY_AGENT: "assistant",
      CALLER_POLICY_FILE: policy,
      LOG_LEVEL: "info",
    },
    "gateway started",
  );
  children.push(gateway.child);
  echoProblems(gateway.child, "gateway");
  const ours = `http://127.0.0.1:${gateway.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };

  // The peer runs `claude` from its PATH: the pinned CLI, on the same stub, from its own cwd.
  const peerBin = join(work.dir, "peer-bin");
  await mkdir(peerBin);
  await symlink(cli.bin, join(peerBin, "claude"));
  const peerPort = 20000 + Math.floor(Math.random() * 20000);
  const peer = spawn(process.execPath, [PEER_MAIN, String(peerPort)], {
    cwd: work.dir,
    env: { ...cli.env, PATH: `${peerBin}:${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(peer);
  peer.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: peer.stdout! }).on("line", (line) => {
      if (line.includes("Server ready")) resolve();
    });
    peer.once("exit", (code) => reject(new Error(`the peer exited ${code}`)));
  });
  const peerUrl = `http://127.0.0.1:${peerPort}`;

  // The raw CLI as the executor runs a stateless no-tools job.
  const rawArgs = [
    "-p",
    ...DEPLOYER_SETTINGS_ONLY,
    "--no-session-persistence",
    "--tools",
    "",
    "--model",
    MODEL,
    "--output-format",
    "json",
  ];
  const rawEnv = buildChildEnv(cli.env, { runId: "bench-raw" });
  const raw = async () =>
    (await timeRawRun(cli.bin, rawArgs, { cwd: work.dir, env: rawEnv, prompt: PROMPT })).ms;

  let hits = 0;
  const ourTurn = async () => {
    await prewarmReady(executorUrl, hits);
    hits++;
    return completion(ours, auth);
  };
  for (let i = 0; i < 2; i++) {
    await raw();
    await completion(peerUrl);
    await ourTurn();
  }
  const rawMs: number[] = [];
  const peerMs: number[] = [];
  const oursMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rawMs.push(await raw());
    peerMs.push(await completion(peerUrl));
    oursMs.push(await ourTurn());
  }
  const peerBurst: number[] = [];
  const oursBurst: number[] = [];
  for (let i = 0; i < 3; i++) {
    peerBurst.push(await burst(peerUrl));
    await prewarmReady(executorUrl, hits);
    hits++;
    oursBurst.push(await burst(ours, auth));
  }

  const base = summarize(rawMs).median;
  const row = (label: string, xs: number[], ref = base) => {
    const s = summarize(xs);
    return [label, s.median, s.p95, s.min, s.max, (s.median / ref).toFixed(3)];
  };
  console.log("stateless completions: raw CLI vs a per-request-spawn proxy vs ours, Messages API stub");
  console.log(world.describe());
  console.log(`${RUNS} runs each, interleaved, after 2 warm-up runs; ms to the complete reply\n`);
  console.log(
    formatTable(
      ["", "median", "p95", "min", "max", "ratio"],
      [
        row("raw CLI, cold (claude -p, as the executor runs it)", rawMs),
        row("claude-max-api-proxy 1.0.0 (spawns the CLI per request)", peerMs),
        row("ours: gateway → NATS → executor, prewarmed CLI", oursMs),
      ],
    ),
  );
  const peerBurstMedian = summarize(peerBurst).median;
  console.log(`\n${CONCURRENT} completions at once, wall time (3 rounds; ratio = / the proxy's median)\n`);
  console.log(
    formatTable(
      ["", "median", "p95", "min", "max", "ratio"],
      [
        row("claude-max-api-proxy 1.0.0", peerBurst, peerBurstMedian),
        row(`ours (MAX_CONCURRENCY=${CONCURRENT}, one prewarmed)`, oursBurst, peerBurstMedian),
      ],
    ),
  );
} finally {
  for (const child of children.reverse()) await stopServiceProcess(child);
  await world.close();
  await ws.cleanup();
  await work.cleanup();
}
