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
import { type RunningConversational, startConversational } from "../src/start.js";

export const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));
export const TOKEN = "test-token-0123456789";
export const AUTH = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

export interface World {
  nats: NatsServer;
  stub: MessagesStub;
  cli: ClaudeTestEnv;
  /** The CONVERSATION_CWD every service of the world shares. */
  cwd: string;
  /** Service env every replica shares (NATS, auth, agents, cwd). */
  baseEnv(): Record<string, string>;
  /** An in-process service; `claudeEnv` replaces the CLI's variables (default: the test CLI's). */
  start(env?: Record<string, string>, claudeEnv?: Record<string, string>): Promise<RunningConversational>;
  close(): Promise<void>;
}

/** A real nats-server, the Messages API stub, the real CLI env, and services started in-process. */
export async function createWorld(): Promise<World> {
  const nats = await startNatsServer();
  const stub = await startMessagesStub();
  const cli = await claudeTestEnv(stub.url);
  const work = await tempDir("cg-conv-");
  const cwd = `${work.dir}/cwd`;
  const services: RunningConversational[] = [];
  const baseEnv = () => ({
    NATS_URL: nats.url,
    AUTH_TOKENS: `tester=${TOKEN}`,
    AGENTS_DIR,
    CONVERSATION_CWD: cwd,
    PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SHUTDOWN_GRACE_SECONDS: "5",
  });
  return {
    nats,
    stub,
    cli,
    cwd,
    baseEnv,
    async start(env = {}, claudeEnv = cli.env) {
      const config = loadConfig({ ...baseEnv(), ...env });
      const svc = await startConversational(config, {
        claudeEnv,
        logger: pino({ level: config.env.LOG_LEVEL }),
        hostname: "127.0.0.1",
        killGraceMs: 1000,
      });
      services.push(svc);
      return svc;
    },
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      await stub.close();
      await nats.stop();
      await cli.cleanup();
      await work.cleanup();
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Json = Record<string, any>;

export async function turn(
  url: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = AUTH,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

export interface SseEvent {
  event: string;
  data: Json;
  /** `performance.now()` when the event's bytes arrived. */
  at: number;
}

/** A streamed turn: every event with its arrival time, read as the bytes come in. */
export async function streamTurn(
  url: string,
  body: Record<string, unknown>,
): Promise<{ status: number; started: number; events: SseEvent[] }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers: { ...AUTH, accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  if (!res.headers.get("content-type")?.includes("text/event-stream")) {
    return {
      status: res.status,
      started,
      events: [{ event: "http", data: (await res.json()) as Json, at: 0 }],
    };
  }
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      events.push({ event, data: JSON.parse(data) as Json, at });
      end = buffer.indexOf("\n\n");
    }
  }
  return { status: res.status, started, events };
}
