import { ConversationalReply, ConversationalRequest, subjects } from "@claude-gateway/contracts";
import { request } from "@claude-gateway/nats";
import {
  createServiceWorld,
  IN_PROCESS,
  type Json,
  type ServiceWorld,
  TEST_AUTH,
} from "@claude-gateway/testkit";
import type { NatsConnection } from "@nats-io/nats-core";
import { loadConfig } from "../src/config.js";
import { type RunningConversational, startConversational } from "../src/start.js";
import { parseSseBlock } from "../src/test-support/sse.js";

export { type Json, TEST_AUTH as AUTH, TEST_TOKEN as TOKEN } from "@claude-gateway/testkit";

/** The scraper's token (`METRICS_TOKEN`) of every service a world starts: no caller holds it. */
export const METRICS_TOKEN = "metrics-token-0123456789";

export interface World extends ServiceWorld<RunningConversational> {
  /** The CONVERSATION_CWD every service of the world shares. */
  cwd: string;
}

/** A real nats-server, the Messages API stub, the real CLI env, and services started in-process. */
export async function createWorld(
  opts: { bus?: { callers?: readonly string[]; anonymous?: boolean } } = {},
): Promise<World> {
  const world = await createServiceWorld({
    service: "conversational",
    ...(opts.bus ? { bus: opts.bus } : {}),
    tmpPrefix: "cg-conv-",
    env: (dir) => ({ CONVERSATION_CWD: `${dir}/cwd`, METRICS_TOKEN }),
    // The service's own logger, at the world's LOG_LEVEL.
    start: (env, claudeEnv) => startConversational(loadConfig(env), { ...IN_PROCESS, claudeEnv }),
  });
  return { ...world, cwd: `${world.dir}/cwd` };
}

export async function turn(
  url: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = TEST_AUTH,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** A service's `/metrics` text, read with the metrics token. */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
  return res.text();
}

/**
 * A turn over NATS for `payload.caller` (its subject names the caller; the payload repeats it), or
 * for `as` when the payload names someone else; a refusal rejects with `RemoteServiceError`.
 */
export function natsTurn(
  nc: NatsConnection,
  payload: ConversationalRequest,
  as = payload.caller ?? "tok_tester",
): Promise<ConversationalReply> {
  return request(nc, {
    subject: subjects.conversational.turn(as),
    request: ConversationalRequest,
    response: ConversationalReply,
    payload,
    timeoutMs: 60_000,
  });
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
  headers: Record<string, string> = TEST_AUTH,
  /** Called with each event as it arrives. */
  onEvent?: (event: SseEvent) => void,
): Promise<{ status: number; started: number; events: SseEvent[] }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/conversational`, {
    method: "POST",
    headers: { ...headers, accept: "text/event-stream" },
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
      const { event, data } = parseSseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      const parsed = { event, data: data as Json, at };
      events.push(parsed);
      onEvent?.(parsed);
      end = buffer.indexOf("\n\n");
    }
  }
  return { status: res.status, started, events };
}
