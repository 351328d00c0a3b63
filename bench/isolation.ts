/**
 * What isolating agents costs per job: one executor process at a time, alternating between
 * `AGENT_ISOLATION=users` (each job as its slot's runner user: fresh home, checkout handed over,
 * reaped by uid) and `none` (the service's own user), and optionally a baseline build of an earlier
 * commit, in rounds so that drift on the machine hits all alike. Every job clones the same small
 * repository (a few hundred files) and runs the same one-turn agent on the Messages API stub.
 * Reports the job's run time (started → finished: checkout, home, CLI, records) per mode.
 *
 *   pnpm --filter ./bench bench:isolation        (as root, after `pnpm build`)
 *   BENCH_ROUNDS=4 BENCH_JOBS_PER_ROUND=5 BENCH_BASELINE_MAIN=/path/to/old/services/executor/dist/main.js
 */
import type { ChildProcess } from "node:child_process";
import { chmod } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { createTempRepo, tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import { positiveIntEnv } from "./lib/env.js";
import { startServiceProcess, stopServiceProcess } from "./lib/service-process.js";
import { median, percentile } from "./lib/stats.js";
import { formatTable } from "./lib/table.js";
import { startBenchWorld } from "./lib/world.js";

const ROUNDS = positiveIntEnv("BENCH_ROUNDS", 4);
const PER_ROUND = positiveIntEnv("BENCH_JOBS_PER_ROUND", 5);
const FILES = positiveIntEnv("BENCH_REPO_FILES", 300);
const MAIN = fileURLToPath(new URL("../services/executor/dist/main.js", import.meta.url));
const AGENTS = fileURLToPath(new URL("../agents", import.meta.url));
const TOKEN = "bench-token-0123456789";
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

interface Mode {
  name: string;
  main: string;
  env: Record<string, string>;
}

async function runJobs(url: string, repo: string, tag: string): Promise<{ run: number[]; total: number[] }> {
  const run: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    const id = `${tag}-${i}`;
    const t = performance.now();
    const res = await fetch(`${url}/execute`, {
      method: "POST",
      headers,
      body: JSON.stringify({ id, agent: "assistant", prompt: "Triage this.", repo }),
    });
    if (res.status !== 202) throw new Error(`submit: ${res.status} ${await res.text()}`);
    for (;;) {
      const { job } = (await (await fetch(`${url}/jobs/${id}`, { headers })).json()) as {
        job: { status: string; runMs: number; error?: unknown };
      };
      if (job.status === "succeeded") {
        run.push(job.runMs);
        break;
      }
      if (job.status !== "queued" && job.status !== "running")
        throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    total.push(performance.now() - t);
  }
  return { run, total };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error("run as root: isolation switches users");
  const world = await startBenchWorld(text("Relevant: a staff role, remote."));
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`src/dir${i % 20}/file${i}.txt`] = `line ${i}\n`.repeat(20);
  const repo = await createTempRepo(files);
  const ws = await tempDir("cg-bench-iso-");
  await chmod(ws.dir, 0o711);
  // No caller limits in the way of the measurement.
  const policy = await writePermissivePolicy(ws.dir, AGENTS, { models: [...DEFAULT_SUPPORTED_MODELS] });
  const modes: Mode[] = [
    {
      name: "users (isolated)",
      main: MAIN,
      env: { AGENT_ISOLATION: "users", WORKSPACE_ROOT: `${ws.dir}/users` },
    },
    {
      name: "none (service's user)",
      main: MAIN,
      env: { AGENT_ISOLATION: "none", WORKSPACE_ROOT: `${ws.dir}/none` },
    },
  ];
  if (process.env.BENCH_BASELINE_MAIN) {
    modes.push({
      name: "baseline (earlier build)",
      main: process.env.BENCH_BASELINE_MAIN,
      env: { WORKSPACE_ROOT: `${ws.dir}/baseline` },
    });
  }
  const results = new Map(modes.map((m) => [m.name, { run: [] as number[], total: [] as number[] }]));
  let child: ChildProcess | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, mode] of modes.entries()) {
        const started = await startServiceProcess(
          mode.main,
          {
            ...world.cli.env,
            NATS_URL: world.nats.url,
            AUTH_TOKENS: `bench=${TOKEN}`,
            AGENTS_DIR: AGENTS,
            PORT: "0",
            MAX_CONCURRENCY: "2",
            LOG_LEVEL: "info",
            REPO_ALLOWLIST: repo.dir,
            CALLER_POLICY_FILE: policy,
            ...mode.env,
          },
          "executor started",
        );
        child = started.child;
        // One job first, not counted: the base clone is made once per executor's workspace.
        await runJobs(`http://127.0.0.1:${started.port}`, repo.dir, `warm-${round}-${index}`);
        const r = await runJobs(`http://127.0.0.1:${started.port}`, repo.dir, `r${round}-${index}`);
        const acc = results.get(mode.name)!;
        acc.run.push(...r.run);
        acc.total.push(...r.total);
        await stopServiceProcess(child);
        child = undefined;
      }
    }
  } finally {
    await stopServiceProcess(child);
    await world.close();
    await repo.cleanup();
    await ws.cleanup();
  }

  const reference = results.get("none (service's user)")!;
  const baseline = results.get("baseline (earlier build)");
  console.log("isolating agents: the same one-turn job on a checkout of a", FILES, "file repository");
  console.log(world.describe());
  console.log(`${ROUNDS} rounds × ${PER_ROUND} jobs per mode, one job at a time\n`);
  console.log(
    formatTable(
      ["mode", "run p50 ms", "run p95 ms", "submit→done p50 ms", "run p50 − none", "run p50 − baseline"],
      [...results.entries()].map(([name, r]) => [
        name,
        median(r.run),
        percentile(r.run, 95),
        median(r.total),
        median(r.run) - median(reference.run),
        baseline ? median(r.run) - median(baseline.run) : Number.NaN,
      ]),
      { decimals: 1 },
    ),
  );
}

await main();
