/**
 * What `runClaude` adds over running the CLI binary directly: the same one-turn
 * `-p --output-format json` run against the same local Messages API stub, raw and through our
 * runner, interleaved so that drift on the machine hits both alike.
 *
 *   pnpm bench                      (root: builds the workspace packages first)
 *   BENCH_RUNS=50 pnpm --filter ./bench bench
 */
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  buildArgv,
  buildChildEnv,
  DEPLOYER_SETTINGS_ONLY,
  type Invocation,
  RUN_MARKER_VAR,
  runClaude,
} from "@claude-gateway/claude";
import { claudeTestEnv, realClaudeVersion, startMessagesStub, tempDir, text } from "@claude-gateway/testkit";
// Not public API: timed on its own because it is the /proc scan `runClaude` does after every run.
import { reapRun } from "../packages/claude/dist/reaper.js";
import { positiveIntEnv } from "./lib/env.js";
import { timeRawRun } from "./lib/raw-cli.js";
import { median, pairedDifferences, percentile, summarize } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 20);
const WARMUP = 2;
const REAP_CALLS = 50;
const RUN_TIMEOUT_MS = 60_000;
const PROMPT = "Say ok.";
const RAW_ARGS = [
  "-p",
  ...DEPLOYER_SETTINGS_ONLY,
  "--output-format",
  "json",
  "--no-session-persistence",
  "--system-prompt-snapshot",
  "off",
];
const invocation: Invocation = { profile: { kind: "tools" }, session: { kind: "ephemeral" }, output: "json" };

/** The bare CLI with the same argv and variables as ours. */
async function runRaw(bin: string, env: Record<string, string>, cwd: string): Promise<number> {
  return (await timeRawRun(bin, RAW_ARGS, { cwd, env, prompt: PROMPT, timeoutMs: RUN_TIMEOUT_MS })).ms;
}

interface OursSample {
  /** Measured here, around `runClaude(...).done`. */
  externalMs: number;
  /** `RunResult.wallMs`: the runner's own clock, from just before spawn until after its reap. */
  wallMs: number;
}

async function runOurs(bin: string, sourceEnv: Record<string, string>, cwd: string): Promise<OursSample> {
  const started = performance.now();
  const r = await runClaude({ invocation, prompt: PROMPT, cwd, timeoutMs: RUN_TIMEOUT_MS, bin, sourceEnv })
    .done;
  return { externalMs: performance.now() - started, wallMs: r.wallMs };
}

function processCount(): number {
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).length;
}

const stub = await startMessagesStub();
stub.setDefault(text("ok"));
const cli = await claudeTestEnv(stub.url);
const work = await tempDir("cg-bench-cwd-");
try {
  // Same variables for both: the runner's child env (allowlist + defaults), less nothing but the
  // marker's value. Our defaults such as DISABLE_AUTOUPDATER change the CLI's start-up.
  const rawEnv = buildChildEnv(cli.env, { runId: "bench-raw" });
  const ourArgs = buildArgv(invocation, { bin: cli.bin }).args;
  if ([...ourArgs].sort().join(" ") !== [...RAW_ARGS].sort().join(" ")) {
    throw new Error(`argv differs: raw ${RAW_ARGS.join(" ")} vs ours ${ourArgs.join(" ")}`);
  }

  for (let i = 0; i < WARMUP; i++) {
    await runRaw(cli.bin, rawEnv, work.dir);
    await runOurs(cli.bin, cli.env, work.dir);
  }
  const raw: number[] = [];
  const ours: OursSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    raw.push(await runRaw(cli.bin, rawEnv, work.dir));
    ours.push(await runOurs(cli.bin, cli.env, work.dir));
  }

  // The scan after a normal exit: every /proc/<pid>/environ, looking for this run's marker.
  const reapMs: number[] = [];
  const procs = processCount();
  for (let i = 0; i < REAP_CALLS; i++) {
    const t = performance.now();
    await reapRun(RUN_MARKER_VAR, randomUUID(), []);
    reapMs.push(performance.now() - t);
  }

  const oursMs = ours.map((s) => s.externalMs);
  const rawS = summarize(raw);
  const oursS = summarize(oursMs);
  const diff = pairedDifferences(oursMs, raw);
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";

  console.log(
    "runner overhead: runClaude vs the bare CLI, one-turn `-p --output-format json`, Messages API stub",
  );
  console.log(
    `claude ${realClaudeVersion(cli.bin)} · node ${process.version} · ${availableParallelism()} CPUs (${cpu}) · ` +
      `load ${loadavg()[0]?.toFixed(2)} · ${new Date().toISOString()}`,
  );
  console.log(`${RUNS} runs each, interleaved raw/ours, after ${WARMUP} warm-up runs each; times in ms\n`);
  console.log(
    formatTable(
      ["", "median", "p95", "min", "max"],
      [
        ["raw", rawS.median, rawS.p95, rawS.min, rawS.max],
        ["ours", oursS.median, oursS.p95, oursS.min, oursS.max],
        [
          "overhead (ours − raw)",
          oursS.median - rawS.median,
          oursS.p95 - rawS.p95,
          oursS.min - rawS.min,
          oursS.max - rawS.max,
        ],
      ],
    ),
  );
  console.log(
    `\npaired differences (ours_i − raw_i): median ${median(diff).toFixed(1)}, ` +
      `p5 ${percentile(diff, 5).toFixed(1)}, p95 ${percentile(diff, 95).toFixed(1)}`,
  );
  console.log("\nthe runner's own work (ours):");
  console.log(
    formatTable(
      ["", "median ms"],
      [
        ["RunResult.wallMs (spawn → result, reap included)", median(ours.map((s) => s.wallMs))],
        [
          "external − wallMs (setup before spawn, settling)",
          median(ours.map((s) => s.externalMs - s.wallMs)),
        ],
        [`reapRun /proc scan alone (${procs} processes, ${REAP_CALLS} calls)`, median(reapMs)],
      ],
      { decimals: 2 },
    ),
  );
} finally {
  await stub.close();
  await cli.cleanup();
  await work.cleanup();
}
