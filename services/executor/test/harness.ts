import { fileURLToPath } from "node:url";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  type MessagesStub,
  type NatsServer,
  startMessagesStub,
  startNatsServer,
  tempDir,
} from "@claude-gateway/testkit";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { type RunningExecutor, startExecutor } from "../src/executor.js";

export const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));
export const TOKEN = "test-token-0123456789";
export const AUTH = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

export interface World {
  nats: NatsServer;
  stub: MessagesStub;
  cli: ClaudeTestEnv;
  workspaceRoot: string;
  /** Executor env every replica shares (NATS, auth, agents, workspaces). */
  baseEnv(): Record<string, string>;
  start(env?: Record<string, string>): Promise<RunningExecutor>;
  close(): Promise<void>;
}

/** A real nats-server, the Messages API stub, the real CLI env, and executors started in-process. */
export async function createWorld(): Promise<World> {
  const nats = await startNatsServer();
  const stub = await startMessagesStub();
  const cli = await claudeTestEnv(stub.url);
  const ws = await tempDir("cg-ws-");
  const executors: RunningExecutor[] = [];
  const baseEnv = () => ({
    NATS_URL: nats.url,
    AUTH_TOKENS: `tester=${TOKEN}`,
    AGENTS_DIR,
    WORKSPACE_ROOT: ws.dir,
    PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ACK_WAIT_SECONDS: "30",
    SHUTDOWN_GRACE_SECONDS: "5",
  });
  return {
    nats,
    stub,
    cli,
    workspaceRoot: ws.dir,
    baseEnv,
    async start(env = {}) {
      const config = loadConfig({ ...baseEnv(), ...env });
      const ex = await startExecutor(config, {
        claudeEnv: { ...cli.env, IS_SANDBOX: "1" },
        logger: pino({ level: config.env.LOG_LEVEL }),
        hostname: "127.0.0.1",
        killGraceMs: 1000,
      });
      executors.push(ex);
      return ex;
    },
    async close() {
      await Promise.all(executors.map((e) => e.stop()));
      await stub.close();
      await nats.stop();
      await cli.cleanup();
      await ws.cleanup();
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Json = Record<string, any>;

export async function submit(
  ex: RunningExecutor,
  body: Record<string, unknown>,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const res = await fetch(`${ex.url}/execute`, { method: "POST", headers: AUTH, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

export async function getJob(ex: RunningExecutor, id: string): Promise<Json> {
  const res = await fetch(`${ex.url}/jobs/${id}`, { headers: AUTH });
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
