/**
 * What the OpenAI gateway adds over the raw CLI, side by side in one run on the same Messages API
 * stub: a real nats-server, a real executor process and a real gateway process, the `openai` SDK
 * as the client. Runs are interleaved so drift on the machine hits every series alike.
 *
 *   latency   raw `claude -p --output-format json` (one turn)  vs  a non-streaming completion
 *   TTFT      the raw CLI's first stream-json text delta       vs  the first content chunk (SDK stream)
 *
 *   pnpm --filter @claude-gateway/executor --filter @claude-gateway/openai-gateway build
 *   cd services/openai-gateway && BENCH_RUNS=50 ../../node_modules/.bin/tsx bench/gateway.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildChildEnv, DEPLOYER_SETTINGS_ONLY } from "@claude-gateway/claude";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { startServiceProcess, stopServiceProcess } from "../../../bench/lib/service-process.js";
import { median, pairedDifferences, percentile } from "../../../bench/lib/stats.js";
import { formatTable } from "../../../bench/lib/table.js";
import { startBenchWorld } from "../../../bench/lib/world.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 50);
const WARMUP = 2;
const MODEL = "claude-haiku-4-5";
const AGENT = "recruiter-triage";
const PROMPT = "Triage this: we are hiring a staff engineer in Sofia, remote OK.";
const ANSWER = "Classification: relevant. A staff role in Sofia, remote possible; pay not stated.";
const TOKEN = "bench-token-0123456789";
const EXECUTOR_MAIN = fileURLToPath(new URL("../../executor/dist/main.js", import.meta.url));
const GATEWAY_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));

/** One raw CLI turn; resolves with the time to the first text delta (stream) or to exit (json). */
function rawCli(
  bin: string,
  env: Record<string, string>,
  cwd: string,
  output: "json" | "stream-json",
): Promise<number> {
  const args = [
    "-p",
    ...DEPLOYER_SETTINGS_ONLY,
    "--no-session-persistence",
    "--tools",
    "",
    "--model",
    MODEL,
    "--output-format",
    output,
  ];
  if (output === "stream-json") args.push("--verbose", "--include-partial-messages");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let firstText: number | undefined;
    let stdout = "";
    createInterface({ input: child.stdout }).on("line", (line) => {
      stdout += line;
      if (firstText === undefined && line.includes('"stream_event"') && line.includes('"text_delta"')) {
        firstText = performance.now() - started;
      }
    });
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", (code) => {
      const elapsed = performance.now() - started;
      if (code !== 0 || !stdout.includes(ANSWER.slice(0, 20))) {
        reject(new Error(`raw ${output} run failed (exit ${code}): ${stdout.slice(0, 300)}`));
      } else if (output === "stream-json") {
        if (firstText === undefined) reject(new Error("no text delta in the stream"));
        else resolve(firstText);
      } else {
        resolve(elapsed);
      }
    });
    child.stdin.end(PROMPT);
  });
}

async function completion(client: OpenAI): Promise<number> {
  const started = performance.now();
  const c = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: PROMPT }],
  });
  const elapsed = performance.now() - started;
  if (c.choices[0]?.message.content !== ANSWER)
    throw new Error(`unexpected answer: ${c.choices[0]?.message.content}`);
  return elapsed;
}

async function firstChunk(client: OpenAI): Promise<number> {
  const started = performance.now();
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: PROMPT }],
    stream: true,
  });
  let first: number | undefined;
  let text = "";
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content;
    if (delta) {
      first ??= performance.now() - started;
      text += delta;
    }
  }
  if (first === undefined || text !== ANSWER) throw new Error(`unexpected stream: ${text}`);
  return first;
}

const row = (name: string, xs: number[]) => [name, median(xs), percentile(xs, 95), percentile(xs, 99)];

const world = await startBenchWorld(text(ANSWER, { chunkSize: 8 }));
const { nats, cli } = world;
const ws = await tempDir("cg-bench-oai-ws-");
const cwd = await tempDir("cg-bench-oai-cwd-");
const conf = await tempDir("cg-bench-oai-conf-");
let executor: ChildProcess | undefined;
let gateway: ChildProcess | undefined;
try {
  // Not about the caller policy (bench/policy.ts is): one that allows every agent and model.
  const policy = await writePermissivePolicy(conf.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
  executor = (
    await startServiceProcess(
      EXECUTOR_MAIN,
      {
        ...cli.env,
        NATS_URL: nats.url,
        AUTH_TOKENS: `bench=${TOKEN}`,
        AGENTS_DIR,
        WORKSPACE_ROOT: ws.dir,
        CALLER_POLICY_FILE: policy,
        PORT: "0",
        MAX_CONCURRENCY: "1",
        LOG_LEVEL: "info",
      },
      "executor started",
    )
  ).child;
  // The gateway gets no CLI variables: it spawns nothing.
  const gw = await startServiceProcess(
    GATEWAY_MAIN,
    {
      PATH: process.env.PATH ?? "",
      NATS_URL: nats.url,
      AUTH_TOKENS: `bench=${TOKEN}`,
      PORT: "0",
      GATEWAY_AGENT: AGENT,
      CALLER_POLICY_FILE: policy,
      LOG_LEVEL: "info",
    },
    "gateway started",
  );
  gateway = gw.child;
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${gw.port}/v1`, apiKey: TOKEN, maxRetries: 0 });
  // The variables the executor gives its CLI children, so the raw runs start the same way.
  const rawEnv = buildChildEnv(cli.env, { runId: "bench-raw" });

  for (let i = 0; i < WARMUP; i++) {
    await rawCli(cli.bin, rawEnv, cwd.dir, "json");
    await completion(client);
    await rawCli(cli.bin, rawEnv, cwd.dir, "stream-json");
    await firstChunk(client);
  }
  const raw: number[] = [];
  const viaGateway: number[] = [];
  const rawFirst: number[] = [];
  const gatewayFirst: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    raw.push(await rawCli(cli.bin, rawEnv, cwd.dir, "json"));
    viaGateway.push(await completion(client));
    rawFirst.push(await rawCli(cli.bin, rawEnv, cwd.dir, "stream-json"));
    gatewayFirst.push(await firstChunk(client));
  }

  console.log(
    "openai-gateway vs the raw CLI: real nats-server, executor and gateway processes, real CLI on the stub",
  );
  console.log(`${world.describe()} · ${RUNS} runs each, interleaved`);
  console.log(
    `agent ${AGENT} (no tools), model ${MODEL}, stub answers at once in ${Math.ceil(ANSWER.length / 8)} deltas\n`,
  );
  console.log(
    formatTable(
      ["ms", "median", "p95", "p99"],
      [
        row("raw CLI, one json turn (spawn → exit)", raw),
        row("gateway, non-streaming completion (SDK call)", viaGateway),
        row("  added by gateway + executor (paired diff.)", pairedDifferences(viaGateway, raw)),
        row("raw CLI, first stream-json text delta", rawFirst),
        row("gateway, first content chunk (SDK stream)", gatewayFirst),
        row("  added by gateway + executor (paired diff.)", pairedDifferences(gatewayFirst, rawFirst)),
      ],
    ),
  );
} finally {
  await stopServiceProcess(gateway);
  await stopServiceProcess(executor);
  await world.close();
  await ws.cleanup();
  await cwd.cleanup();
  await conf.cleanup();
}
