import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { JobRef, JobReply, JobSubmission, SubmitReply, subjects } from "@claude-gateway/contracts";
import { request } from "@claude-gateway/nats";
import {
  createServiceWorld,
  IN_PROCESS,
  type Json,
  messagesText,
  type RecordedRequest,
  type ServiceWorld,
  type ServiceWorldOptions,
  TEST_AUTH,
  text,
  toolUse,
} from "@claude-gateway/testkit";
import type { NatsConnection } from "@nats-io/nats-core";
import type { z } from "zod";
import { loadConfig } from "../src/config.js";
import { type RunningExecutor, startExecutor } from "../src/start.js";

export { type Json, TEST_AUTH as AUTH, TEST_TOKEN as TOKEN } from "@claude-gateway/testkit";

export interface World extends ServiceWorld<RunningExecutor> {
  workspaceRoot: string;
}

/** A real nats-server, the Messages API stub, the real CLI env, and executors started in-process. */
export async function createWorld(
  opts: { bus?: ServiceWorldOptions<RunningExecutor>["bus"] } = {},
): Promise<World> {
  const world = await createServiceWorld({
    service: "executor",
    ...(opts.bus ? { bus: opts.bus } : {}),
    tmpPrefix: "cg-ws-",
    // Test repositories are made under the temp dir (testkit's createTempRepo): allow them there.
    env: (dir) => ({
      WORKSPACE_ROOT: dir,
      ACK_WAIT_SECONDS: "30",
      REPO_ALLOWLIST: tmpdir(),
      // These suites count the CLI processes a job leaves; the prewarmed pool's own suite
      // (prewarm.test.ts) turns it on.
      PREWARM_POOL_SIZE: "0",
      // As root (CI) agents run as runner users; a developer's own user cannot switch users.
      ...(process.getuid?.() === 0 ? {} : { AGENT_ISOLATION: "none" }),
    }),
    // Tests run as root: the `general` agent skips permissions, which the CLI allows only in a sandbox.
    claudeEnv: (cli) => ({ ...cli.env, IS_SANDBOX: "1" }),
    // The service's own logger, at the world's LOG_LEVEL.
    start: (env, claudeEnv) => startExecutor(loadConfig(env), { ...IN_PROCESS, claudeEnv }),
  });
  return { ...world, workspaceRoot: world.dir };
}

export async function submit(
  ex: RunningExecutor,
  body: Record<string, unknown>,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await fetch(`${ex.url}/execute`, {
    method: "POST",
    headers: TEST_AUTH,
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

export async function getJob(ex: RunningExecutor, id: string): Promise<Json> {
  const res = await fetch(`${ex.url}/jobs/${id}`, { headers: TEST_AUTH });
  return ((await res.json()) as { job: Json }).job;
}

const TERMINAL = new Set(["succeeded", "failed", "timed_out", "cancelled"]);

/** Resolves with the job once it is terminal (polls the API: the record is the receipt). */
export async function waitForJob(ex: RunningExecutor, id: string, timeoutMs = 60_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(ex, id);
    if (TERMINAL.has(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The executor's NATS endpoints, called as another service calls them on behalf of `caller` (a
 * principal; by default the HTTP test token's, so HTTP helpers see the same jobs).
 */
export function overNats(nc: NatsConnection, caller = "tok_tester") {
  return {
    submit: (payload: z.input<typeof JobSubmission>) =>
      request(nc, {
        subject: subjects.jobs.submit(caller),
        request: JobSubmission,
        response: SubmitReply,
        payload,
      }),
    /** Another caller's job is not found. */
    get: (id: string, as = caller) =>
      request(nc, {
        subject: subjects.jobs.get(as),
        request: JobRef,
        response: JobReply,
        payload: { id },
      }),
  };
}

/** A built executor (`dist/main.js`) as its own process: one that can really be killed or frozen. */
export interface ExecutorProcess {
  child: ChildProcess;
  /** Its HTTP address. */
  url: string;
  /** Its error log lines (pino level 50): each one is a failure worth reading. */
  errors: string[];
}

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** Starts an executor process on the world's NATS, stub and CLI; resolves once it has started. */
export function spawnExecutor(
  world: World,
  id: string,
  env: Record<string, string> = {},
): Promise<ExecutorProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...world.cli.env,
      IS_SANDBOX: "1",
      ...world.baseEnv(),
      EXECUTOR_ID: id,
      LOG_LEVEL: "info",
      PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.resume();
  const errors: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (/"level":50/.test(line)) errors.push(line.slice(0, 1500));
      if (!line.includes('"executor started"')) return;
      const { port } = JSON.parse(line) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}`, errors });
    });
    child.once("exit", (code) => reject(new Error(`executor ${id} exited with ${code}`)));
  });
}

/** SIGTERM (after SIGCONT, should it be frozen) and wait for the exit, unless it already exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  await exited;
}

/** The stub of a world: what the Bash helpers script and read. */
type StubOf = Pick<World, "stub">;

/**
 * Makes the real CLI run shell commands: a job marked `[tag:X]` in its prompt gets a Bash tool call
 * running `commands[X]` (read when the request arrives, so tests may fill it later), then finishes
 * with `done X` — or never answers after the tool, for tags in `hangAfterTool`. Other requests get
 * the stub's default.
 */
export function scriptBash(
  world: StubOf,
  commands: Readonly<Record<string, string>>,
  hangAfterTool: readonly string[] = [],
): void {
  world.stub.setHandler((req) => {
    const tag = /\[tag:(\w+)\]/.exec(messagesText(req.body))?.[1];
    if (!tag || !commands[tag]) return undefined;
    if (JSON.stringify(req.body.messages?.at(-1)?.content).includes("tool_result"))
      return hangAfterTool.includes(tag) ? { kind: "hang" } : text(`done ${tag}`);
    return toolUse("Bash", { command: commands[tag], description: "work" });
  });
}

/** The tool result the CLI sent back for the job marked `[tag:X]`, as JSON text. */
export function toolResultOf(world: StubOf, tag: string): string {
  const req = world.stub
    .turnRequests()
    .find(
      (r: RecordedRequest) =>
        messagesText(r.body).includes(`[tag:${tag}]`) && JSON.stringify(r.body).includes("tool_result"),
    );
  if (!req) throw new Error(`no tool_result request for [tag:${tag}]`);
  return JSON.stringify(req.body.messages!.at(-1)!.content);
}

/** Live CLI processes whose HOME is a job or pool home of the world's executors. */
export async function cliProcesses(world: World): Promise<Array<{ pid: number; uid: number; home: string }>> {
  const homes = join(world.workspaceRoot, "homes");
  const out: Array<{ pid: number; uid: number; home: string }> = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      const home = environ.find((v) => v.startsWith("HOME="))?.slice(5);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "latin1");
      if (!home?.startsWith(homes) || !cmd.includes("stream-json")) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1]);
      out.push({ pid: Number(entry), uid, home });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
