/**
 * A soak, not part of CI: the executor, the OpenAI gateway and the conversational service as their
 * own processes (`dist/main.js`) on a real nats-server, the real CLI on the Messages API stub.
 * SOAK_GATEWAY chat completions go through the gateway (→ NATS → executor, its prewarmed pool on)
 * while SOAK_CONVERSATIONAL turns go through the conversational service (warm processes on), half
 * of each streamed. It passes when every request succeeded, each service's own RSS grew at most
 * 20 MB from after the warm-up to the end, its open file descriptors did not grow (beyond a small
 * slack), and the CLI processes left are the pooled and warm ones within their budgets; otherwise
 * it prints why and exits 1. Memory is read settled and after a full garbage collection (a soak-only
 * preload, `lib/gc-on-signal.mjs`) at the baseline and at 25/50/75/100%: a leak grows with the
 * requests served, memory merely reserved levels off. The services run with the image's
 * NODE_OPTIONS (`deploy/Dockerfile`).
 *
 *   pnpm build && pnpm test:soak
 *   SOAK_GATEWAY=100 SOAK_CONVERSATIONAL=400 pnpm test:soak        (a short run)
 *   SOAK_CONCURRENCY (4 each), SOAK_CONVERSATIONS (32), SOAK_SETTLE_SECONDS (10),
 *   SOAK_NODE_OPTIONS (the image's), SOAK_HEAPSNAPSHOTS=<service> (a heap snapshot of it at each
 *   checkpoint: how the conversational service's ~125 KB kept per warm turn was found)
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { tempDir, text, writePermissivePolicy } from "@claude-gateway/testkit";
import { positiveIntEnv } from "./lib/env.js";
import { imageNodeOptions } from "./lib/image-node-options.js";
import {
  maxSample,
  type ProcSample,
  processesRunning,
  sampleProcess,
  settledSample,
} from "./lib/proc-stats.js";
import { echoProblems, startServiceProcess, stopServiceProcess } from "./lib/service-process.js";
import { parseSse } from "./lib/sse.js";
import { formatMarkdownTable } from "./lib/table.js";
import { startBenchWorld } from "./lib/world.js";

const GATEWAY_REQUESTS = positiveIntEnv("SOAK_GATEWAY", 2000);
const TURNS = positiveIntEnv("SOAK_CONVERSATIONAL", 8000);
const CONCURRENCY = positiveIntEnv("SOAK_CONCURRENCY", 4);
const CONVERSATIONS = Math.min(positiveIntEnv("SOAK_CONVERSATIONS", 32), TURNS);
const SETTLE_MS = positiveIntEnv("SOAK_SETTLE_SECONDS", 10) * 1000;
/** The share of each kind of request run before the baseline is read. */
const WARMUP = 0.05;
/** Where the run pauses to read every service settled again, the last being the end. */
const CHECKPOINTS = [0.25, 0.5, 0.75, 1];
const MAX_RSS_GROWTH_MB = 20;
/**
 * Descriptors the end may hold over the baseline without a leak. Both are read idle (keep-alive
 * sockets closed; a socket in TIME_WAIT holds no descriptor), but a prewarmed CLI still starting or
 * being replaced holds its stdio pipes, and a client socket may still be closing. Five is one such
 * process and a socket or two; a leak of one descriptor per request would show hundreds.
 */
const FD_SLACK = 5;
/** The executor's pool (its defaults, spelled out for the CLI budget checked at the end). */
const PREWARM_POOL_SIZE = 1;
const PREWARM_MAX_KEYS = 2;
/** The conversational service's budget of live CLI processes (its default). */
const CONVERSATIONAL_PROCESSES = 5;

const MODEL = "claude-sonnet-4-6";
const ANSWER = "Sure. Done.";
const TOKEN = "bench-token-0123456789";
const METRICS = "bench-metrics-0123456789";
const HEADERS = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const main = (service: string) =>
  fileURLToPath(new URL(`../services/${service}/dist/main.js`, import.meta.url));
const AGENTS_DIR = fileURLToPath(new URL("../agents", import.meta.url));
/** The soak's preload: SIGUSR2 → full garbage collections (see the file). */
const GC_ON_SIGNAL = fileURLToPath(new URL("./lib/gc-on-signal.mjs", import.meta.url));
/** The services run with the Node options their image sets (SOAK_NODE_OPTIONS to try others). */
const NODE_OPTIONS = process.env.SOAK_NODE_OPTIONS ?? imageNodeOptions();
/** SOAK_HEAPSNAPSHOTS=<service>: that service writes a heap snapshot at each checkpoint, into a temp dir. */
const HEAP_SNAPSHOTS = process.env.SOAK_HEAPSNAPSHOTS
  ? { service: process.env.SOAK_HEAPSNAPSHOTS, dir: mkdtempSync(join(tmpdir(), "cg-soak-heap-")) }
  : undefined;

type Kind = "gateway" | "conversational";

/** A request that did not succeed, under the key it is counted by (status and error code). */
class RequestFailure extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`${key}: ${detail}`);
  }
}

const failures = new Map<string, number>();
const failureExamples: string[] = [];

function countFailure(kind: Kind, err: unknown): void {
  const key =
    err instanceof RequestFailure
      ? `${kind} ${err.key}`
      : `${kind} network ${(err as { cause?: { code?: string } }).cause?.code ?? String(err)}`;
  failures.set(key, (failures.get(key) ?? 0) + 1);
  if (failureExamples.length < 10) failureExamples.push(`${kind}: ${(err as Error).message}`.slice(0, 400));
}

/** A non-200 answer as a failure keyed by its status and error code (either service's envelope). */
async function failureOf(res: Response): Promise<RequestFailure> {
  const body = await res.text();
  let code = "unparsed";
  try {
    const error = (JSON.parse(body) as { error?: string | { code?: string } }).error;
    code = (typeof error === "string" ? error : error?.code) ?? "no_code";
  } catch {
    // not JSON: the status says enough
  }
  return new RequestFailure(`${res.status} ${code}`, body.slice(0, 300));
}

/** One chat completion through the gateway; odd ones streamed. */
async function completion(url: string, i: number): Promise<void> {
  const stream = i % 2 === 1;
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      model: MODEL,
      stream,
      messages: [{ role: "user", content: `Soak ${i}: say it.` }],
    }),
  });
  if (res.status !== 200) throw await failureOf(res);
  const content = stream
    ? streamedContent(await res.text())
    : ((await res.json()) as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message
        ?.content;
  if (content !== ANSWER) throw new RequestFailure("wrong_reply", JSON.stringify(content));
}

/** The text of a streamed completion, which must end with `[DONE]` and carry no error chunk. */
function streamedContent(body: string): string {
  const data = parseSse(body).map((e) => e.data);
  if (data.at(-1) !== "[DONE]") {
    const last = JSON.parse(data.at(-1) ?? "{}") as { error?: { code?: string } };
    throw new RequestFailure(`stream ${last.error?.code ?? "no_done"}`, body.slice(-300));
  }
  return data
    .slice(0, -1)
    .map(
      (d) =>
        (JSON.parse(d) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content,
    )
    .join("");
}

/** One conversational turn, as JSON or as server-sent events; resolves to the conversation's id. */
async function turn(url: string, conversationId: string | undefined, message: string, stream: boolean) {
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({ message, stream, ...(conversationId ? { conversation_id: conversationId } : {}) }),
  });
  if (res.status !== 200) throw await failureOf(res);
  let reply: { conversation_id?: string; reply?: string };
  if (stream) {
    const events = parseSse(await res.text());
    const error = events.find((e) => e.event === "error");
    if (error) throw new RequestFailure(`stream ${JSON.parse(error.data).error}`, error.data);
    const sentences = events.filter((e) => e.event === "sentence").map((e) => JSON.parse(e.data).text);
    reply = JSON.parse(events.find((e) => e.event === "done")?.data ?? "{}");
    if (sentences.join(" ") !== ANSWER)
      throw new RequestFailure("wrong_sentences", JSON.stringify(sentences));
  } else {
    reply = (await res.json()) as typeof reply;
  }
  if (reply.reply !== ANSWER || !reply.conversation_id)
    throw new RequestFailure("wrong_reply", JSON.stringify(reply).slice(0, 300));
  return reply.conversation_id;
}

/** A kind of request run in stages: `runUntil(f)` runs the next requests until the share f is done. */
interface Driver {
  total: number;
  done(): number;
  /** Time spent in `runUntil`, summed over the stages. */
  elapsedMs(): number;
  runUntil(fraction: number): Promise<void>;
}

function timed(run: (fraction: number) => Promise<void>) {
  let elapsed = 0;
  return {
    elapsedMs: () => elapsed,
    async runUntil(fraction: number) {
      const started = performance.now();
      await run(fraction);
      elapsed += performance.now() - started;
    },
  };
}

/** Completions `CONCURRENCY` at a time, each taken from one shared counter. */
function gatewayDriver(url: string): Driver {
  let next = 0;
  let done = 0;
  const worker = async (end: number) => {
    while (next < end) {
      const i = next++;
      await completion(url, i).catch((err) => countFailure("gateway", err));
      done++;
    }
  };
  return {
    total: GATEWAY_REQUESTS,
    done: () => done,
    ...timed(async (fraction) => {
      const end = Math.ceil(fraction * GATEWAY_REQUESTS);
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(end)));
    }),
  };
}

/**
 * `CONVERSATIONS` conversations, the turns split evenly among them, `CONCURRENCY` at a time: each
 * worker holds its conversations one after another, so the active ones stay warm (a conversation's
 * turns are its worker's, in order) and each new one takes the prewarmed process. Odd turns are
 * streamed.
 */
function conversationalDriver(url: string): Driver {
  const plans: number[][] = Array.from({ length: CONCURRENCY }, () => []);
  for (let c = 0; c < CONVERSATIONS; c++) {
    const turns = Math.floor(TURNS / CONVERSATIONS) + (c < TURNS % CONVERSATIONS ? 1 : 0);
    for (let t = 0; t < turns; t++) plans[c % CONCURRENCY]!.push(c);
  }
  const cursors = plans.map(() => 0);
  const ids = new Map<number, string>();
  const turnsTaken = new Map<number, number>();
  let done = 0;
  const worker = async (w: number, fraction: number) => {
    const plan = plans[w]!;
    const end = Math.ceil(fraction * plan.length);
    for (; cursors[w]! < end; cursors[w]!++) {
      const c = plan[cursors[w]!]!;
      const t = turnsTaken.get(c) ?? 0;
      turnsTaken.set(c, t + 1);
      // A conversation whose first turn failed has no id yet: its next turn starts it.
      await turn(url, ids.get(c), `Conversation ${c}, turn ${t}: go on.`, t % 2 === 1)
        .then((id) => ids.set(c, id))
        .catch((err) => countFailure("conversational", err));
      done++;
    }
  };
  return {
    total: TURNS,
    done: () => done,
    ...timed((fraction) => Promise.all(plans.map((_, w) => worker(w, fraction))).then(() => undefined)),
  };
}

interface Service {
  name: string;
  pid: number;
  url: string;
  /** How many CLI processes it may hold when idle: the pooled and warm ones. */
  cliBudget: number;
  peak: ProcSample;
}

/** Reads every service each `intervalMs` for the peaks, and says how far the run is every 30 s. */
function startMonitor(services: Service[], drivers: Record<Kind, Driver>, onTick: () => void) {
  const started = performance.now();
  let lastReport = started;
  const timer = setInterval(() => {
    try {
      for (const s of services) s.peak = maxSample(s.peak, sampleProcess(s.pid));
    } catch (err) {
      // A service that died: its requests fail and say so; the run must still stop it all.
      console.error(`[soak] cannot read a service: ${String(err)}`);
      return;
    }
    onTick();
    if (performance.now() - lastReport < 30_000) return;
    lastReport = performance.now();
    const progress = (Object.entries(drivers) as Array<[Kind, Driver]>)
      .map(([kind, d]) => `${kind} ${d.done()}/${d.total}`)
      .join(" · ");
    const rss = services.map((s) => `${s.name} ${sampleProcess(s.pid).rssMb.toFixed(0)}`).join(" / ");
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    console.error(
      `[soak ${((lastReport - started) / 1000).toFixed(0)} s] ${progress} · failures ${failed} · RSS MB ${rss}`,
    );
  }, 5000);
  return { stop: () => clearInterval(timer) };
}

/** A service's own view of its memory, from its `/metrics` (prom-client's Node.js defaults), in MB. */
interface NodeMemory {
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

async function nodeMemory(url: string): Promise<NodeMemory> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
  const text = await res.text();
  const mb = (name: string) => {
    const line = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return line ? Number(line[1]) / 1024 / 1024 : Number.NaN;
  };
  return {
    heapUsedMb: mb("nodejs_heap_size_used_bytes"),
    heapTotalMb: mb("nodejs_heap_size_total_bytes"),
    externalMb: mb("nodejs_external_memory_bytes"),
  };
}

type Settled = ProcSample & NodeMemory;

/**
 * After a quiet `SETTLE_MS` (in-flight work done, keep-alive sockets closed) and a full garbage
 * collection, each service's floor.
 */
async function settle(services: Service[]): Promise<Map<string, Settled>> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  // Garbage is not a leak: collect it before reading, so each reading compares live memory.
  for (const s of services) process.kill(s.pid, "SIGUSR2");
  await new Promise((r) => setTimeout(r, 1000));
  if (HEAP_SNAPSHOTS) {
    // Written by the service itself (--heapsnapshot-signal); compare two to see what it keeps.
    for (const s of services) if (s.name === HEAP_SNAPSHOTS.service) process.kill(s.pid, "SIGPWR");
    await new Promise((r) => setTimeout(r, 8000));
  }
  const samples = await Promise.all(
    services.map(async (s) => ({ ...(await settledSample(s.pid)), ...(await nodeMemory(s.url)) })),
  );
  return new Map(services.map((s, i) => [s.name, samples[i]!]));
}

const world = await startBenchWorld(text(ANSWER));
const { nats, cli, stub } = world;
const work = await tempDir("cg-soak-");
// Runner users (the executor runs as root here) reach their checkouts under it.
await chmod(work.dir, 0o711);
const children: ChildProcess[] = [];

async function startService(name: string, env: Record<string, string>, startedMsg: string) {
  const { child, port } = await startServiceProcess(
    main(name),
    {
      ...env,
      NODE_OPTIONS,
      AUTH_TOKENS: `bench=${TOKEN}`,
      METRICS_TOKEN: METRICS,
      PORT: "0",
      LOG_LEVEL: "info",
    },
    startedMsg,
    [
      "--expose-gc",
      "--import",
      GC_ON_SIGNAL,
      ...(HEAP_SNAPSHOTS?.service === name
        ? ["--heapsnapshot-signal=SIGPWR", `--diagnostic-dir=${HEAP_SNAPSHOTS.dir}`]
        : []),
    ],
  );
  children.push(child);
  echoProblems(child, name);
  return { pid: child.pid!, url: `http://127.0.0.1:${port}` };
}

try {
  const policy = await writePermissivePolicy(work.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
  const executor = await startService(
    "executor",
    {
      ...cli.env,
      ...nats.envOf("executor"),
      AGENTS_DIR,
      WORKSPACE_ROOT: join(work.dir, "ws"),
      CALLER_POLICY_FILE: policy,
      PREWARM_POOL_SIZE: String(PREWARM_POOL_SIZE),
      PREWARM_MAX_KEYS: String(PREWARM_MAX_KEYS),
    },
    "executor started",
  );
  const gateway = await startService(
    "openai-gateway",
    { PATH: process.env.PATH ?? "", ...nats.envOf("openai-gateway"), CALLER_POLICY_FILE: policy },
    "gateway started",
  );
  const conversational = await startService(
    "conversational",
    {
      ...cli.env,
      ...nats.envOf("conversational"),
      AGENTS_DIR,
      CALLER_POLICY_FILE: policy,
      CONVERSATION_CWD: join(work.dir, "cwd"),
      CONVERSATIONAL_MAX_CONCURRENCY: String(CONVERSATIONAL_PROCESSES),
    },
    "conversational started",
  );
  const services: Service[] = [
    {
      name: "executor",
      pid: executor.pid,
      url: executor.url,
      cliBudget: PREWARM_POOL_SIZE * PREWARM_MAX_KEYS,
    },
    { name: "openai-gateway", pid: gateway.pid, url: gateway.url, cliBudget: 0 },
    {
      name: "conversational",
      pid: conversational.pid,
      url: conversational.url,
      cliBudget: CONVERSATIONAL_PROCESSES,
    },
  ].map((s) => ({ ...s, peak: sampleProcess(s.pid) }));
  const drivers: Record<Kind, Driver> = {
    gateway: gatewayDriver(gateway.url),
    conversational: conversationalDriver(conversational.url),
  };
  // The stub records every request it answers; the soak reads none, so the record stays empty.
  const monitor = startMonitor(services, drivers, () => stub.requests.splice(0));
  const runAll = async (fraction: number) => {
    const started = performance.now();
    await Promise.all(Object.values(drivers).map((d) => d.runUntil(fraction)));
    return performance.now() - started;
  };

  // Read settled at the baseline and at each checkpoint after it: a leak grows in proportion to
  // the requests served; memory the process merely reserves levels off.
  const warmupMs = await runAll(WARMUP);
  const baseline = await settle(services);
  const curve: Array<{ fraction: number; at: Map<string, Settled> }> = [{ fraction: WARMUP, at: baseline }];
  let restMs = 0;
  for (const fraction of CHECKPOINTS) {
    restMs += await runAll(fraction);
    curve.push({ fraction, at: await settle(services) });
  }
  monitor.stop();
  const end = curve.at(-1)!.at;
  const clis = await Promise.all(services.map((s) => processesRunning(s.pid, cli.bin)));

  const problems: string[] = [];
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  if (failed > 0) problems.push(`${failed} requests failed`);
  const serviceRows = services.map((s, i) => {
    const before = baseline.get(s.name)!;
    const after = end.get(s.name)!;
    const growth = after.rssMb - before.rssMb;
    const left = clis[i]!.length;
    if (growth > MAX_RSS_GROWTH_MB)
      problems.push(`${s.name}: RSS grew ${growth.toFixed(1)} MB (at most ${MAX_RSS_GROWTH_MB})`);
    if (after.fds > before.fds + FD_SLACK)
      problems.push(`${s.name}: open FDs ${before.fds} → ${after.fds} (at most +${FD_SLACK})`);
    if (left > s.cliBudget) problems.push(`${s.name}: ${left} CLI processes left (budget ${s.cliBudget})`);
    return [
      s.name,
      before.rssMb,
      s.peak.rssMb,
      after.rssMb,
      growth,
      String(before.fds),
      String(s.peak.fds),
      String(after.fds),
      `${left} (≤ ${s.cliBudget})`,
      `${before.anonMb.toFixed(1)} → ${after.anonMb.toFixed(1)}`,
      `${before.heapUsedMb.toFixed(1)} → ${after.heapUsedMb.toFixed(1)}`,
    ];
  });
  const failuresOf = (kind: Kind) =>
    [...failures].filter(([key]) => key.startsWith(`${kind} `)).reduce((sum, [, n]) => sum + n, 0);
  const wallS = (warmupMs + restMs) / 1000;
  const kindRow = (kind: Kind, label: string) => {
    const d = drivers[kind];
    return [
      label,
      String(d.total),
      String(failuresOf(kind)),
      d.elapsedMs() / 1000,
      d.total / (d.elapsedMs() / 1000),
    ];
  };

  console.log(
    `soak: ${GATEWAY_REQUESTS} gateway completions and ${TURNS} conversational turns in ${CONVERSATIONS} ` +
      `conversations at the same time, ${CONCURRENCY} at a time each, half of each streamed; ` +
      `baseline after the first ${WARMUP * 100}% and a ${SETTLE_MS / 1000} s settle`,
  );
  console.log(`${world.describe()}\n`);
  if (HEAP_SNAPSHOTS) console.log(`heap snapshots of ${HEAP_SNAPSHOTS.service} in ${HEAP_SNAPSHOTS.dir}\n`);
  console.log(
    formatMarkdownTable(
      [
        "service (Node process only)",
        "RSS after warm-up (MB)",
        "RSS peak",
        "RSS at end",
        "growth (MB)",
        "FDs after warm-up",
        "FDs peak",
        "FDs at end",
        "CLIs left (budget)",
        "RssAnon MB (warm-up → end)",
        "JS heap used MB (warm-up → end)",
      ],
      serviceRows,
    ),
  );
  console.log("");
  console.log(
    "Memory, settled, at each checkpoint (MB; heap and external as the service's /metrics says):\n",
  );
  console.log(
    formatMarkdownTable(
      ["service", "requests done", "RSS", "RssAnon", "JS heap used", "JS heap total", "external", "FDs"],
      services.flatMap((s) =>
        curve.map(({ fraction, at }) => {
          const m = at.get(s.name)!;
          return [
            s.name,
            `${Math.round(fraction * 100)}%`,
            m.rssMb,
            m.anonMb,
            m.heapUsedMb,
            m.heapTotalMb,
            m.externalMb,
            String(m.fds),
          ];
        }),
      ),
    ),
  );
  console.log("");
  console.log(
    formatMarkdownTable(
      ["requests", "n", "failures", "wall (s)", "requests/s"],
      [
        kindRow("gateway", "gateway chat completions"),
        kindRow("conversational", "conversational turns"),
        ["all", String(GATEWAY_REQUESTS + TURNS), String(failed), wallS, (GATEWAY_REQUESTS + TURNS) / wallS],
      ],
    ),
  );
  if (failures.size > 0) {
    console.log("\nfailures by kind:");
    for (const [key, n] of failures) console.log(`  ${n} × ${key}`);
    for (const example of failureExamples) console.log(`  e.g. ${example}`);
  }
  if (problems.length > 0) {
    console.log(`\nFAIL\n${problems.map((p) => `- ${p}`).join("\n")}`);
    process.exitCode = 1;
  } else {
    console.log("\nPASS");
  }
} finally {
  for (const child of children.reverse()) await stopServiceProcess(child);
  await world.close();
  await work.cleanup();
}
