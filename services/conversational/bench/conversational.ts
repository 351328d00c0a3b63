/**
 * The conversational service against the bare CLI, on the same local Messages API stub:
 * - a raw cold CLI turn (the exact argv the service builds) vs a turn through the service (HTTP,
 *   NATS KV record, transcript saved to the object store): a new conversation served by a
 *   prewarmed process, a next turn on the conversation's warm process, and both again on a service
 *   with warm processes off (`WARM_IDLE_SECONDS=0`, `PREWARM_POOL_SIZE=0`: a cold start per turn);
 * - time to the first `sentence` event vs time to the full reply, streamed (SSE), warm;
 * - a bare warm CLI (`--input-format stream-json`, one process for the whole conversation): the
 *   floor for a warm turn.
 *
 *   /work/main/bench/node_modules/.bin/tsx services/conversational/bench/conversational.ts
 *   BENCH_RUNS=50 …   (default 20)
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { loadAgents } from "@claude-gateway/agents";
import { buildArgv, buildChildEnv } from "@claude-gateway/claude";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { processesWithEnv, tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import pino from "pino";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { timeRawRun } from "../../../bench/lib/raw-cli.js";
import { median, summarize } from "../../../bench/lib/stats.js";
import { formatTable } from "../../../bench/lib/table.js";
import { startBenchWorld } from "../../../bench/lib/world.js";
import { loadConfig } from "../src/config.js";
import { planTurn } from "../src/core/turn.js";
import { AGENT_NAME, startConversational } from "../src/start.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 20);
const WARMUP = 2;
const PROMPT = "Say ok.";
const SHORT_REPLY = "Okay.";
const SPOKEN = [
  "Sure, here is the short version.",
  "Sofia sits in a valley below Vitosha mountain.",
  "It has been a city for more than two thousand years.",
  "Would you like to hear more?",
];
const CHUNK = 8;
const CHUNK_DELAY_MS = 15;
const TOKEN = "bench-token-0123456789";
const METRICS = "bench-metrics-0123456789";
const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));

const world = await startBenchWorld(text(SHORT_REPLY));
const { stub, nats, cli } = world;
const work = await tempDir("cg-bench-conv-");
const cwd = join(work.dir, "cwd");
// The bench measures turns, not the caller policy: limits it never reaches.
const policy = await writePermissivePolicy(work.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
const benchEnv = {
  NATS_URL: nats.url,
  AUTH_TOKENS: `bench=${TOKEN}`,
  CALLER_POLICY_FILE: policy,
  AGENTS_DIR,
  CONVERSATION_CWD: cwd,
  PORT: "0",
  LOG_LEVEL: "silent",
  METRICS_TOKEN: METRICS,
};
const config = loadConfig({
  ...benchEnv,
  // Every new conversation of the bench stays warm (idle 300 s), and the pool only fills free
  // slots: room for all of them, so each new conversation finds a prewarmed process.
  CONVERSATIONAL_MAX_CONCURRENCY: String(RUNS + WARMUP + 6),
});
const service = await startConversational(config, {
  claudeEnv: cli.env,
  logger: pino({ level: "silent" }),
  hostname: "127.0.0.1",
});
// Warm processes off: every turn starts its CLI, as before they existed.
const coldService = await startConversational(
  loadConfig({ ...benchEnv, WARM_IDLE_SECONDS: "0", PREWARM_POOL_SIZE: "0" }),
  { claudeEnv: cli.env, logger: pino({ level: "silent" }), hostname: "127.0.0.1" },
);
const agent = (await loadAgents(AGENTS_DIR)).get(AGENT_NAME);
const rawEnv = buildChildEnv(cli.env, { runId: "bench-raw" });
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

/** The argv the service builds for a turn (new or resume), run without the service. */
function rawArgs(resume?: { conversationId: string; sessionId: string }): string[] {
  const plan = planTurn({
    request: { message: PROMPT, ...(resume ? { conversationId: resume.conversationId } : {}) },
    stored: resume
      ? {
          ...resume,
          model: agent.model ?? config.models.defaultModel,
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
          turns: 1,
        }
      : null,
    agent,
    models: config.models,
    mintId: randomUUID,
  });
  return buildArgv(plan.invocation, { bin: cli.bin }).args;
}

/** The bare CLI: spawn, prompt on stdin, until it has exited and closed its output. */
async function runRaw(args: string[]): Promise<number> {
  return (await timeRawRun(cli.bin, args, { cwd, env: rawEnv, prompt: PROMPT })).ms;
}

/**
 * Waits until the service's pool holds a prewarmed process whose CLI is ready (it answered
 * `initialize`), refilled after the last new conversation's turn: as at any rate of new
 * conversations below one per start-up time.
 */
async function poolReady(url: string): Promise<void> {
  const count = (metrics: string, kind: string) =>
    Number(new RegExp(`conversational_warm_events_total\\{kind="${kind}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    const metrics = await res.text();
    if (
      /conversational_cli_processes\{state="pooled"\} [1-9]/.test(metrics) &&
      count(metrics, "ready") > count(metrics, "pool_hit")
    )
      return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the prewarmed pool did not refill");
}

async function serviceTurn(
  body: Record<string, unknown>,
  url = service.url,
): Promise<{ ms: number; reply: Record<string, string> }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  const reply = (await res.json()) as Record<string, string>;
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`service turn failed: ${res.status} ${JSON.stringify(reply)}`);
  return { ms, reply };
}

/** Time to the first `sentence` event and to `done`, over SSE. */
async function streamedTurn(conversationId?: string): Promise<{ firstMs: number; doneMs: number }> {
  stub.enqueue(text(SPOKEN.join(" "), { chunkSize: CHUNK, delayMs: CHUNK_DELAY_MS }));
  const started = performance.now();
  const res = await fetch(`${service.url}/v1/conversational`, {
    method: "POST",
    headers: { ...headers, accept: "text/event-stream" },
    body: JSON.stringify({
      message: "Tell me about Sofia.",
      ...(conversationId ? { conversation_id: conversationId } : {}),
    }),
  });
  let firstMs: number | undefined;
  let doneMs: number | undefined;
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    if (firstMs === undefined && buffer.includes("event: sentence")) firstMs = performance.now() - started;
    if (buffer.includes("event: done")) doneMs = performance.now() - started;
  }
  if (firstMs === undefined || doneMs === undefined)
    throw new Error(`stream incomplete: ${buffer.slice(0, 300)}`);
  return { firstMs, doneMs };
}

/** One long-lived CLI for a whole conversation: each turn is a stdin line, ending at its `result`. */
async function warmTurns(turns: number): Promise<{ firstMs: number; turnMs: number[] }> {
  const args = [...rawArgs(), "--input-format", "stream-json"];
  const started = performance.now();
  const child = spawn(cli.bin, args, { cwd, env: rawEnv, stdio: ["pipe", "pipe", "pipe"] });
  const lines = createInterface({ input: child.stdout });
  const results: Array<() => void> = [];
  lines.on("line", (line) => {
    if (line.includes('"type":"result"')) results.shift()?.();
  });
  const send = () =>
    new Promise<void>((resolve) => {
      results.push(resolve);
      child.stdin.write(`${JSON.stringify({ type: "user", message: { role: "user", content: PROMPT } })}\n`);
    });
  await send();
  const firstMs = performance.now() - started;
  const turnMs: number[] = [];
  for (let i = 0; i < turns; i++) {
    const t = performance.now();
    await send();
    turnMs.push(performance.now() - t);
  }
  child.stdin.end();
  await new Promise((r) => child.once("close", r));
  return { firstMs, turnMs };
}

try {
  const rawResumeTarget = { conversationId: "bench-raw", sessionId: randomUUID() };
  await runRaw(
    buildArgv(
      planTurn({
        request: { message: PROMPT },
        stored: null,
        agent,
        models: config.models,
        mintId: (() => {
          const ids = [randomUUID(), rawResumeTarget.sessionId];
          return () => ids.shift() ?? randomUUID();
        })(),
      }).invocation,
      { bin: cli.bin },
    ).args,
  );
  const first = await serviceTurn({ message: PROMPT });
  const conversationId = first.reply.conversation_id!;
  const coldFirst = await serviceTurn({ message: PROMPT }, coldService.url);
  const coldConversationId = coldFirst.reply.conversation_id!;
  const streamed = (await serviceTurn({ message: PROMPT })).reply.conversation_id!;
  for (let i = 0; i < WARMUP; i++) {
    await runRaw(rawArgs());
    await poolReady(service.url);
    await serviceTurn({ message: PROMPT });
    await serviceTurn({ message: PROMPT }, coldService.url);
    await streamedTurn(streamed);
  }

  const rawNew: number[] = [];
  const svcNew: number[] = [];
  const coldNew: number[] = [];
  const rawResume: number[] = [];
  const svcResume: number[] = [];
  const coldResume: number[] = [];
  const firstSentence: number[] = [];
  const fullReply: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rawNew.push(await runRaw(rawArgs()));
    await poolReady(service.url);
    svcNew.push((await serviceTurn({ message: PROMPT })).ms);
    coldNew.push((await serviceTurn({ message: PROMPT }, coldService.url)).ms);
    rawResume.push(await runRaw(rawArgs(rawResumeTarget)));
    svcResume.push((await serviceTurn({ conversation_id: conversationId, message: PROMPT })).ms);
    coldResume.push(
      (await serviceTurn({ conversation_id: coldConversationId, message: PROMPT }, coldService.url)).ms,
    );
    const s = await streamedTurn(streamed);
    firstSentence.push(s.firstMs);
    fullReply.push(s.doneMs);
  }
  const warm = await warmTurns(RUNS);

  const base = median(rawNew);
  const row = (label: string, xs: number[]) => {
    const s = summarize(xs);
    return [label, s.median, s.p95, s.min, s.max, `${(s.median / base).toFixed(3)}`];
  };
  console.log("conversational: the service vs the bare CLI, Messages API stub (no model latency)");
  console.log(world.describe());
  console.log(
    `${RUNS} runs each, interleaved, after ${WARMUP} warm-up runs; times in ms to the complete reply; ` +
      "ratio = median / raw cold CLI's median\n",
  );
  console.log(
    formatTable(
      ["", "median", "p95", "min", "max", "ratio"],
      [
        row(`raw CLI, cold, new session ("${SHORT_REPLY}")`, rawNew),
        row("raw CLI, cold, --resume", rawResume),
        row("service, new conversation (prewarmed process)", svcNew),
        row("service, next turn (warm process)", svcResume),
        row("service, warm off: new conversation (cold)", coldNew),
        row("service, warm off: next turn (cold --resume)", coldResume),
        row(
          `SSE warm: first sentence (${SPOKEN.length} sentences, ${CHUNK} chars/${CHUNK_DELAY_MS} ms)`,
          firstSentence,
        ),
        row("SSE warm: full reply (done)", fullReply),
        row("bare warm CLI process: one turn (stream-json stdin)", warm.turnMs),
      ],
    ),
  );
  console.log(
    `\nservice overhead over the bare warm CLI (median): next turn ${(median(svcResume) - median(warm.turnMs)).toFixed(1)} ms; ` +
      `cold service over the raw CLI: new ${(median(coldNew) - median(rawNew)).toFixed(1)} ms, ` +
      `next turn ${(median(coldResume) - median(rawResume)).toFixed(1)} ms`,
  );
  // What the warm processes hold: every CLI still alive belongs to the two services (the raw runs
  // have exited). The services run in this process: its RSS is theirs plus the bench's.
  const rss = (pid: number | "self") =>
    Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  const alive = (await processesWithEnv({ HOME: cli.home })).filter((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("stream-json"),
  );
  const cliMb = alive.map((pid) => rss(pid));
  const total = cliMb.reduce((a, b) => a + b, 0);
  console.log(
    `live CLI processes (warm conversations and the pool): ${alive.length}, RSS ${total.toFixed(0)} MB in all, ` +
      `${(total / Math.max(1, alive.length)).toFixed(0)} MB each (max ${Math.max(0, ...cliMb).toFixed(0)}); ` +
      `the services' process (with the bench) ${rss("self").toFixed(0)} MB`,
  );
} finally {
  await service.stop();
  await coldService.stop();
  await world.close();
  await work.cleanup();
}
