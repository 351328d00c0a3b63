/**
 * Executor throughput and memory: a real executor process on a real nats-server, the real CLI on
 * the Messages API stub answering after a fixed delay D. Prints jobs/s against the ideal N/D, the
 * per-job overhead (submit → result, minus the raw CLI's time on the same stub), and the
 * executor's own RSS idle and with N jobs running (CLI children excluded).
 *
 *   pnpm --filter ./bench bench:executor        (after `pnpm build`)
 *   BENCH_JOBS=100 BENCH_CONCURRENCY=4 BENCH_DELAY_MS=2000
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DEPLOYER_SETTINGS_ONLY } from "@claude-gateway/claude";
import { tempDir, text } from "@claude-gateway/testkit";
import { startServiceProcess, stopServiceProcess } from "./lib/service-process.js";
import { median, percentile } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";
import { startBenchWorld } from "./lib/world.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const N = Number(process.env.BENCH_CONCURRENCY ?? 4);
const D = Number(process.env.BENCH_DELAY_MS ?? 2000);
const RAW_RUNS = Number(process.env.BENCH_RAW_RUNS ?? 8);
const MAIN = fileURLToPath(new URL("../services/executor/dist/main.js", import.meta.url));
const AGENTS = fileURLToPath(new URL("../agents", import.meta.url));
const TOKEN = "bench-token-0123456789";
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function rawCli(bin: string, env: Record<string, string>, cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    bin,
    ["-p", ...DEPLOYER_SETTINGS_ONLY, "--output-format", "json", "--no-session-persistence", "--tools", ""],
    {
      cwd,
      env: { ...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" },
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  child.stdin.end("Triage this.");
  await new Promise((r) => child.once("close", r));
  return performance.now() - t0;
}

async function main() {
  const world = await startBenchWorld(text("Relevant: a staff role, remote.", { firstByteDelayMs: D }));
  const { nats, cli } = world;
  const ws = await tempDir("cg-bench-ws-");
  const cwd = await tempDir("cg-bench-cwd-");
  let exec: ChildProcess | undefined;
  try {
    // The raw CLI on the same stub, same agent-less one-turn shape: the floor a job cannot beat.
    const raw: number[] = [];
    for (let i = 0; i < RAW_RUNS; i++) raw.push(await rawCli(cli.bin, cli.env, cwd.dir));

    const started = await startServiceProcess(
      MAIN,
      {
        ...cli.env,
        NATS_URL: nats.url,
        AUTH_TOKENS: `bench=${TOKEN}`,
        AGENTS_DIR: AGENTS,
        WORKSPACE_ROOT: ws.dir,
        PORT: "0",
        MAX_CONCURRENCY: String(N),
        MAX_QUEUE_DEPTH: String(JOBS * 2),
        LOG_LEVEL: "info",
      },
      "executor started",
    );
    exec = started.child;
    const url = `http://127.0.0.1:${started.port}`;
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = rssKb(exec.pid!);

    // One job at a time: submit → terminal record, the same shape as one raw CLI run.
    const single: number[] = [];
    const singleWait: number[] = [];
    const singleRun: number[] = [];
    for (let i = 0; i < RAW_RUNS; i++) {
      const t = performance.now();
      const res = await fetch(`${url}/execute`, {
        method: "POST",
        headers,
        body: JSON.stringify({ id: `single-${i}`, agent: "recruiter-triage", prompt: "Triage this." }),
      });
      if (res.status !== 202) throw new Error(`submit: ${res.status}`);
      for (;;) {
        const job = (
          (await (await fetch(`${url}/jobs/single-${i}`, { headers })).json()) as {
            job: { status: string; queueWaitMs: number; runMs: number };
          }
        ).job;
        if (job.status === "succeeded") {
          singleWait.push(job.queueWaitMs);
          singleRun.push(job.runMs);
          break;
        }
        if (job.status !== "queued" && job.status !== "running") throw new Error(`job ${job.status}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      single.push(performance.now() - t);
    }

    const submittedAt = new Map<string, number>();
    const latency: number[] = [];
    let peakRss = 0;
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i++) {
      const res = await fetch(`${url}/execute`, {
        method: "POST",
        headers,
        body: JSON.stringify({ id: `bench-${i}`, agent: "recruiter-triage", prompt: `Triage message ${i}.` }),
      });
      if (res.status !== 202) throw new Error(`submit ${i}: ${res.status} ${await res.text()}`);
      submittedAt.set(`bench-${i}`, performance.now());
    }
    const pending = new Set(submittedAt.keys());
    const status: Record<string, number> = {};
    while (pending.size > 0) {
      peakRss = Math.max(peakRss, rssKb(exec.pid!));
      for (const id of [...pending]) {
        const job = (
          (await (await fetch(`${url}/jobs/${id}`, { headers })).json()) as { job: { status: string } }
        ).job;
        if (["succeeded", "failed", "timed_out", "cancelled"].includes(job.status)) {
          pending.delete(id);
          status[job.status] = (status[job.status] ?? 0) + 1;
          latency.push((job as unknown as { runMs: number }).runMs ?? 0);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const wall = (performance.now() - t0) / 1000;
    const rawMedian = median(raw);

    console.log(
      "executor throughput and memory: real executor process, real nats-server, real CLI on the stub",
    );
    console.log(world.describe());
    console.log(
      `${JOBS} jobs, MAX_CONCURRENCY N=${N}, stub delay D=${D} ms; outcomes ${JSON.stringify(status)}\n`,
    );
    console.log(
      formatTable(
        ["measure", "value"],
        [
          ["jobs/s (measured)", JOBS / wall],
          ["jobs/s (ideal N/D)", N / (D / 1000)],
          ["efficiency vs ideal (%)", (100 * (JOBS / wall)) / (N / (D / 1000))],
          [`raw CLI one turn, median of ${RAW_RUNS} ms`, rawMedian],
          [`one job alone, submit → succeeded, median of ${RAW_RUNS} ms`, median(single)],
          ["overhead per job vs raw CLI (alone), median ms", median(single) - rawMedian],
          ["  of which submit → started (queue, KV), median ms", median(singleWait)],
          ["  of which started → finished (checkout, CLI, records), median ms", median(singleRun)],
          [`job run time under load (N=${N}), median ms`, median(latency)],
          [`job run time under load (N=${N}), p95 ms`, percentile(latency, 95)],
          ["executor RSS idle (MiB)", idleRss / 1024],
          [`executor RSS peak with ${N} running (MiB, CLI excluded)`, peakRss / 1024],
        ],
        { decimals: 2 },
      ),
    );
    console.log(
      "\nOn a 2-core machine N concurrent CLIs (each ~0.5 s of CPU to start) bound throughput before the queue",
    );
    console.log(
      "does; 'overhead (alone)' is what the executor adds per job: NATS, KV writes, workspace, agent flags, events.",
    );
  } finally {
    await stopServiceProcess(exec);
    await world.close();
    await ws.cleanup();
    await cwd.cleanup();
  }
}

await main();
