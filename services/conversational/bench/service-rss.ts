/**
 * Memory of the conversational service with warm CLI processes on and off, each service its own
 * process (the built `dist/main.js`) on the same Messages API stub: the service's own RSS (its
 * Node process, the CLIs excluded) after the same conversations, and what its live CLI processes
 * hold against the bound `CONVERSATIONAL_MAX_CONCURRENCY` × the largest one.
 *
 *   pnpm --filter @claude-gateway/conversational build
 *   /work/main/bench/node_modules/.bin/tsx services/conversational/bench/service-rss.ts
 *   BENCH_RUNS=40 …   (conversations of two turns each per service; default 20)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import { positiveIntEnv } from "../../../bench/lib/env.js";
import { startServiceProcess, stopServiceProcess } from "../../../bench/lib/service-process.js";
import { summarize } from "../../../bench/lib/stats.js";
import { formatTable } from "../../../bench/lib/table.js";
import { startBenchWorld } from "../../../bench/lib/world.js";

const RUNS = positiveIntEnv("BENCH_RUNS", 20);
const MAX_PROCESSES = 5;
const TOKEN = "bench-token-0123456789";
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));

const world = await startBenchWorld(text("Okay."));
const work = await tempDir("cg-bench-rss-");
const policy = await writePermissivePolicy(work.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });

const rssMb = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};
/** The live CLI processes a service started (its direct children). */
const childrenOf = (ppid: number) =>
  readFileSync(`/proc/${ppid}/task/${ppid}/children`, "utf8").split(" ").filter(Boolean).map(Number);

async function measure(label: string, extra: Record<string, string>) {
  const { child, port } = await startServiceProcess(
    MAIN,
    {
      ...world.cli.env,
      NATS_URL: world.nats.url,
      AUTH_TOKENS: `bench=${TOKEN}`,
      CALLER_POLICY_FILE: policy,
      AGENTS_DIR,
      CONVERSATION_CWD: join(work.dir, "cwd"),
      CONVERSATIONAL_MAX_CONCURRENCY: String(MAX_PROCESSES),
      PORT: "0",
      LOG_LEVEL: "info",
      REPLICA_ID: label.replace(/[^A-Za-z0-9]/g, "-"),
      ...extra,
    },
    "conversational started",
  );
  const url = `http://127.0.0.1:${port}/v1/conversational`;
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (body: object) => {
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
    const json = (await res.json()) as { conversation_id?: string };
    if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const serviceRss: number[] = [];
  let cliMax = 0;
  let cliTotalMax = 0;
  let cliCountMax = 0;
  for (let i = 0; i < RUNS; i++) {
    const first = await post({ message: `Conversation ${i}: hello.` });
    await post({ conversation_id: first.conversation_id, message: "And again." });
    serviceRss.push(rssMb(child.pid!));
    const clis = childrenOf(child.pid!).map(rssMb);
    cliMax = Math.max(cliMax, ...clis, 0);
    cliTotalMax = Math.max(
      cliTotalMax,
      clis.reduce((a, b) => a + b, 0),
    );
    cliCountMax = Math.max(cliCountMax, clis.length);
  }
  await stopServiceProcess(child);
  return { label, service: summarize(serviceRss), cliMax, cliTotalMax, cliCountMax };
}

try {
  const off = await measure("warm off (a cold CLI per turn)", {
    WARM_IDLE_SECONDS: "0",
    PREWARM_POOL_SIZE: "0",
  });
  const on = await measure("warm on (defaults)", {});
  console.log(
    `conversational service memory, warm CLI processes on vs off: ${RUNS} conversations of two turns each, ` +
      `CONVERSATIONAL_MAX_CONCURRENCY=${MAX_PROCESSES}\n${world.describe()}\n`,
  );
  console.log(
    formatTable(
      [
        "",
        "service RSS median (MB)",
        "max",
        "ratio",
        "CLIs live (max)",
        "CLI RSS sum max (MB)",
        "largest CLI (MB)",
      ],
      [off, on].map((m) => [
        m.label,
        m.service.median.toFixed(1),
        m.service.max.toFixed(1),
        (m.service.median / off.service.median).toFixed(3),
        String(m.cliCountMax),
        m.cliTotalMax.toFixed(0),
        m.cliMax.toFixed(0),
      ]),
    ),
  );
  console.log(
    `\nbound: ${MAX_PROCESSES} processes × the largest CLI seen (${on.cliMax.toFixed(0)} MB) = ` +
      `${(MAX_PROCESSES * on.cliMax).toFixed(0)} MB; the warm service's CLIs held at most ${on.cliTotalMax.toFixed(0)} MB`,
  );
} finally {
  await world.close();
  await work.cleanup();
}
