/**
 * The conversational service against the bare CLI, on the same local Messages API stub:
 * - a raw CLI turn (the exact argv the service builds) vs a turn through the service (HTTP, NATS
 *   KV record, transcript saved to the object store), for a new conversation and a next turn;
 * - time to the first `sentence` event vs time to the full reply, streamed (SSE);
 * - a warm CLI (`--input-format stream-json`, one process for the whole conversation), to show
 *   how much of a turn is spawning the CLI.
 *
 *   /work/main/bench/node_modules/.bin/tsx services/conversational/bench/conversational.ts
 *   BENCH_RUNS=50 …   (default 20)
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { loadAgents } from "@claude-gateway/agents";
import { buildArgv, buildChildEnv } from "@claude-gateway/claude";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
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
const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));

const world = await startBenchWorld(text(SHORT_REPLY));
const { stub, nats, cli } = world;
const work = await tempDir("cg-bench-conv-");
const cwd = join(work.dir, "cwd");
// The bench measures turns, not the caller policy: limits it never reaches.
const policy = await writePermissivePolicy(work.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
const config = loadConfig({
  NATS_URL: nats.url,
  AUTH_TOKENS: `bench=${TOKEN}`,
  CALLER_POLICY_FILE: policy,
  AGENTS_DIR,
  CONVERSATION_CWD: cwd,
  PORT: "0",
  LOG_LEVEL: "silent",
});
const service = await startConversational(config, {
  claudeEnv: cli.env,
  logger: pino({ level: "silent" }),
  hostname: "127.0.0.1",
});
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

async function serviceTurn(
  body: Record<string, unknown>,
): Promise<{ ms: number; reply: Record<string, string> }> {
  const started = performance.now();
  const res = await fetch(`${service.url}/v1/conversational`, {
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
async function streamedTurn(): Promise<{ firstMs: number; doneMs: number }> {
  stub.enqueue(text(SPOKEN.join(" "), { chunkSize: CHUNK, delayMs: CHUNK_DELAY_MS }));
  const started = performance.now();
  const res = await fetch(`${service.url}/v1/conversational`, {
    method: "POST",
    headers: { ...headers, accept: "text/event-stream" },
    body: JSON.stringify({ message: "Tell me about Sofia." }),
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
  for (let i = 0; i < WARMUP; i++) {
    await runRaw(rawArgs());
    await serviceTurn({ message: PROMPT });
    await streamedTurn();
  }

  const rawNew: number[] = [];
  const svcNew: number[] = [];
  const rawResume: number[] = [];
  const svcResume: number[] = [];
  const firstSentence: number[] = [];
  const fullReply: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    rawNew.push(await runRaw(rawArgs()));
    svcNew.push((await serviceTurn({ message: PROMPT })).ms);
    rawResume.push(await runRaw(rawArgs(rawResumeTarget)));
    svcResume.push((await serviceTurn({ conversation_id: conversationId, message: PROMPT })).ms);
    const s = await streamedTurn();
    firstSentence.push(s.firstMs);
    fullReply.push(s.doneMs);
  }
  const warm = await warmTurns(RUNS);

  const row = (label: string, xs: number[]) => {
    const s = summarize(xs);
    return [label, s.median, s.p95, s.min, s.max];
  };
  console.log("conversational: the service vs the bare CLI, Messages API stub (no model latency)");
  console.log(world.describe());
  console.log(`${RUNS} runs each, interleaved, after ${WARMUP} warm-up runs; times in ms\n`);
  console.log(
    formatTable(
      ["", "median", "p95", "min", "max"],
      [
        row(`raw CLI, new session ("${SHORT_REPLY}")`, rawNew),
        row("service, new conversation (HTTP)", svcNew),
        row("raw CLI, --resume", rawResume),
        row("service, next turn (HTTP, --resume)", svcResume),
        row(
          `SSE: first sentence (${SPOKEN.length} sentences, ${CHUNK} chars/${CHUNK_DELAY_MS} ms)`,
          firstSentence,
        ),
        row("SSE: full reply (done)", fullReply),
        row("warm CLI process: one turn (stream-json stdin)", warm.turnMs),
      ],
    ),
  );
  const overheadNew = median(svcNew) - median(rawNew);
  const overheadResume = median(svcResume) - median(rawResume);
  console.log(
    `\nservice overhead (median): new ${overheadNew.toFixed(1)} ms, next turn ${overheadResume.toFixed(1)} ms` +
      `; first start of the warm process (spawn + first turn): ${warm.firstMs.toFixed(1)} ms`,
  );
  const spawnMs = median(rawResume) - median(warm.turnMs);
  console.log(
    `CLI spawn + start-up per turn ≈ ${spawnMs.toFixed(1)} ms (raw --resume − warm turn, medians) = ` +
      `${((spawnMs / median(svcResume)) * 100).toFixed(0)}% of a service next turn on the stub`,
  );
} finally {
  await service.stop();
  await world.close();
  await work.cleanup();
}
