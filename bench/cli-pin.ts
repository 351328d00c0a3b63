/**
 * Two CLI versions side by side, in one run, on one Messages API stub: the pinned one and another
 * (by default the previous pin). For moving the pin: cold one-turn latency, peak RSS of a cold
 * run, a warm stream-json turn, and the RSS of an idle warm process.
 *
 *   pnpm --filter ./bench bench:cli-pin                     (the pin vs 2.1.197)
 *   CLI_OTHER_VERSION=2.1.300 BENCH_RUNS=30 pnpm --filter ./bench bench:cli-pin
 *   CLI_OTHER_BIN=/path/to/claude pnpm --filter ./bench bench:cli-pin
 *
 * The other version is installed once with npm (its postinstall links the native binary) under
 * `$XDG_CACHE_HOME/claude-gateway-bench` (default `~/.cache/…`).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { buildChildEnv, DEPLOYER_SETTINGS_ONLY } from "@claude-gateway/claude";
import { claudeTestEnv, realClaudeVersion, startMessagesStub, tempDir, text } from "@claude-gateway/testkit";
import { positiveIntEnv } from "./lib/env.js";
import { describeMachine } from "./lib/machine.js";
import { timeRawRun } from "./lib/raw-cli.js";
import { summarize } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 15);
const WARM_TURNS = positiveIntEnv("BENCH_WARM_TURNS", 30);
const WARMUP = 2;
const PROMPT = "Say ok.";
const COLD_ARGS = [
  "-p",
  ...DEPLOYER_SETTINGS_ONLY,
  "--output-format",
  "json",
  "--no-session-persistence",
  "--tools",
  "",
];
const WARM_ARGS = [
  "-p",
  ...DEPLOYER_SETTINGS_ONLY,
  "--input-format",
  "stream-json",
  "--output-format",
  "stream-json",
  "--verbose",
  "--no-session-persistence",
  "--tools",
  "",
];
const TIME_BIN = "/usr/bin/time";

/** A CLI version installed with npm into a cache folder, once. */
function installedBin(version: string): string {
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "claude-gateway-bench");
  const prefix = join(cache, `claude-code-${version}`);
  const bin = join(prefix, "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe");
  if (!existsSync(bin) || readFileSync(bin).length < 10_000) {
    mkdirSync(prefix, { recursive: true });
    console.error(`installing @anthropic-ai/claude-code@${version} into ${prefix} …`);
    execFileSync(
      "npm",
      [
        "install",
        "--prefix",
        prefix,
        "--no-save",
        "--no-fund",
        "--no-audit",
        `@anthropic-ai/claude-code@${version}`,
      ],
      // Not pnpm's npm_config_* variables: npm warns about each one it does not know.
      {
        stdio: ["ignore", "ignore", "inherit"],
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k))),
      },
    );
  }
  return bin;
}

/** A cold run's wall time in ms, or (measureRss) its peak RSS in MiB from the kernel (GNU time's %M). */
async function coldRun(
  bin: string,
  env: Record<string, string>,
  cwd: string,
  measureRss: boolean,
): Promise<number> {
  if (!measureRss) return (await timeRawRun(bin, COLD_ARGS, { cwd, env, prompt: PROMPT })).ms;
  const rssFile = join(tmpdir(), `cg-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await timeRawRun(TIME_BIN, ["-f", "%M", "-o", rssFile, bin, ...COLD_ARGS], { cwd, env, prompt: PROMPT });
  return Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) / 1024;
}

/** One warm process: per-turn latency after the first turn, then its RSS once idle. */
async function warmRuns(
  bin: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ turnMs: number[]; idleRssMiB: number; peakRssMiB: number }> {
  const child = spawn(bin, WARM_ARGS, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  const results: (() => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.includes('"type":"result"')) results.shift()?.();
  });
  const turn = () =>
    new Promise<number>((resolve) => {
      const started = performance.now();
      results.push(() => resolve(performance.now() - started));
      child.stdin.write(`${JSON.stringify({ type: "user", message: { role: "user", content: PROMPT } })}\n`);
    });
  await turn();
  const turnMs: number[] = [];
  for (let i = 0; i < WARM_TURNS; i++) turnMs.push(await turn());
  await new Promise((r) => setTimeout(r, 1000));
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  child.stdin.end();
  await new Promise((r) => child.on("close", r));
  return { turnMs, idleRssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024 };
}

const stub = await startMessagesStub();
stub.setDefault(text("ok"));
const cli = await claudeTestEnv(stub.url);
const work = await tempDir("cg-bench-pin-");
try {
  const pinned = { bin: cli.bin, version: realClaudeVersion(cli.bin) };
  const otherBin = process.env.CLI_OTHER_BIN ?? installedBin(process.env.CLI_OTHER_VERSION ?? "2.1.197");
  const other = { bin: otherBin, version: realClaudeVersion(otherBin) };
  const env = buildChildEnv(cli.env, { runId: "bench-pin" });
  const hasTime = existsSync(TIME_BIN);
  const clis = [other, pinned];

  for (let i = 0; i < WARMUP; i++) for (const c of clis) await coldRun(c.bin, env, work.dir, false);
  const cold = new Map(clis.map((c) => [c.version, [] as number[]]));
  const rss = new Map(clis.map((c) => [c.version, [] as number[]]));
  for (let i = 0; i < RUNS; i++) {
    for (const c of clis) {
      cold.get(c.version)!.push(await coldRun(c.bin, env, work.dir, false));
      if (hasTime) rss.get(c.version)!.push(await coldRun(c.bin, env, work.dir, true));
    }
  }
  const warm = new Map<string, Awaited<ReturnType<typeof warmRuns>>>();
  for (const c of clis) warm.set(c.version, await warmRuns(c.bin, env, work.dir));

  console.log("the CLI pin: two versions of the claude CLI on one Messages API stub, interleaved");
  console.log(describeMachine());
  console.log(
    `${RUNS} cold one-turn runs each (\`${COLD_ARGS.map((a) => a || '""').join(" ")}\`), after ${WARMUP} warm-up runs; ` +
      `${WARM_TURNS} turns in one warm stream-json process each\n`,
  );
  const row = (label: string, pick: (version: string) => number, decimals = 1) => {
    const [a, b] = clis.map((c) => pick(c.version));
    return [label, a!.toFixed(decimals), b!.toFixed(decimals), (b! / a!).toFixed(2)];
  };
  const p = (m: Map<string, number[]>, q: "median" | "p95") => (v: string) => summarize(m.get(v)!)[q];
  console.log(
    formatTable(
      ["", other.version, `${pinned.version} (pinned)`, "ratio pinned/other"],
      [
        row("cold one-turn run, p50 ms", p(cold, "median")),
        row("cold one-turn run, p95 ms", p(cold, "p95")),
        ...(hasTime
          ? [
              row("cold run peak RSS, p50 MiB", p(rss, "median")),
              row("cold run peak RSS, max MiB", (v) => Math.max(...rss.get(v)!)),
            ]
          : []),
        row("warm turn, p50 ms", (v) => summarize(warm.get(v)!.turnMs).median),
        row("warm turn, p95 ms", (v) => summarize(warm.get(v)!.turnMs).p95),
        row("warm process idle RSS, MiB", (v) => warm.get(v)!.idleRssMiB),
        row("warm process peak RSS, MiB", (v) => warm.get(v)!.peakRssMiB),
        row(
          "cold p50 / warm p50",
          (v) => summarize(cold.get(v)!).median / summarize(warm.get(v)!.turnMs).median,
        ),
      ],
    ),
  );
  if (!hasTime) console.log(`\n(${TIME_BIN} not found: no cold peak RSS; apt-get install time)`);
} finally {
  await stub.close();
  await cli.cleanup();
  await work.cleanup();
}
