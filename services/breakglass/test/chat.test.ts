import { eventually, messagesText, processesWithEnv, text, toolUse } from "@claude-gateway/testkit";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { ChatEvent, SessionView } from "../src/core/wire.js";
import { type RunningBreakglass, startBreakglass } from "../src/start.js";
import { kinds, readTurn } from "../src/test-support/sse-client.js";
import { type CliWorld, startCliWorld } from "./support/cli-world.js";

/**
 * The chat end to end: HTTP in, the real CLI running the breakglass agent on the Messages stub,
 * its stream-json translated into the SSE vocabulary, out over a real socket.
 */

const TOKEN = "tester-token-0123456789";
const METRICS_TOKEN = "metrics-token-0123456789";

let world: CliWorld;
let bg: RunningBreakglass;
let env: Record<string, string>;

async function start(): Promise<RunningBreakglass> {
  return startBreakglass(loadConfig(env), {
    claudeEnv: world.cli.env,
    hostname: "127.0.0.1",
    logger: pino({ level: "silent" }),
    killGraceMs: 2000,
  });
}

beforeAll(async () => {
  // The host side is a fake ssh client: it answers like `uptime` would and shows the agent socket.
  world = await startCliWorld(
    "bg-chat-",
    () => `#!/bin/sh
case "$*" in *sleep*) exec sleep 600 ;; esac
echo " 10:00:00 up 3 days,  load average: 0.00 (sock=$SSH_AUTH_SOCK)"
`,
  );
  env = {
    ...world.env,
    AUTH_TOKENS: `tester=${TOKEN}`,
    METRICS_TOKEN,
    LOG_LEVEL: "silent",
    SSH_DEVVM_HOST: "127.0.0.1",
    SSH_PVE_HOST: "127.0.0.1",
  };
  bg = await start();
});

afterAll(async () => {
  await bg?.stop();
  await world?.close();
});

beforeEach(() => world.stub.reset());

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${bg.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
const newSession = async (id?: string) =>
  ((await (await call("POST", "/api/sessions", id ? { id } : {})).json()) as SessionView).id;
const send = async (id: string, message: string) => {
  const res = await call("POST", `/api/sessions/${id}/messages`, { text: message });
  expect(res.status).toBe(200);
  return res;
};
const of = <T extends ChatEvent["type"]>(events: Array<{ event: ChatEvent }>, type: T) =>
  events.map((e) => e.event).filter((e): e is Extract<ChatEvent, { type: T }> => e.type === type);

describe("chat over the real CLI", () => {
  let sessionId: string;

  it("is ready: the CLI has a login (the stub's API key)", async () => {
    const res = await fetch(`${bg.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true });
  });

  it("streams a turn with a tool call: session, text deltas, the call and its result, result, done", async () => {
    world.stub.enqueue(
      toolUse(
        "Bash",
        { command: "ssh devvm uptime", description: "Is the guest up?" },
        { preamble: "Checking the VM first.", chunkSize: 6 },
      ),
      text("The VM is up: 3 days.", { chunkSize: 5 }),
    );
    sessionId = await newSession();
    const events = await readTurn(await send(sessionId, "Is the VM up?"));

    const k = kinds(events);
    expect(k[0]).toBe("session");
    expect(k.slice(-2)).toEqual(["result", "done"]);
    expect(k.indexOf("tool:call")).toBeLessThan(k.indexOf("tool:result"));
    expect(events[0]?.event).toEqual({ type: "session", sessionId, resumed: false });
    // Text arrived in pieces, as the model produced it, before and after the tool.
    const texts = of(events, "text").map((e) => e.delta);
    expect(texts.length).toBeGreaterThan(4);
    expect(texts.join("")).toBe("Checking the VM first.The VM is up: 3 days.");
    expect(of(events, "tool")).toMatchObject([
      { phase: "call", name: "Bash", input: { command: "ssh devvm uptime" } },
      { phase: "result", name: "Bash", isError: false },
    ]);
    const result = of(events, "tool")[1] as { output: string };
    expect(result.output).toContain("up 3 days");
    // The CLI child got the agent socket, so the agent's ssh reaches the key.
    expect(result.output).toContain(`sock=${bg.ssh.childEnv.SSH_AUTH_SOCK}`);
    const [summary] = of(events, "result");
    expect(summary).toMatchObject({ isError: false, numTurns: 2, permissionDenials: [] });
    expect(summary?.costUsd).toBeGreaterThan(0);
    expect(summary?.durationMs).toBeGreaterThan(0);
    // `--session-id` on the first turn: the CLI ran under our id.
    expect(world.stub.turnRequests()[0]?.headers["x-claude-code-session-id"]).toBe(sessionId);
    expect(world.stub.turnRequests()[0]?.body.model).toBe("claude-sonnet-4-6");
    // The agent's commands may run for AGENT_COMMAND_TIMEOUT_SECONDS (600), not the CLI's 2 minutes.
    const bashTool = world.stub.turnRequests()[0]?.body.tools?.find((t) => t.name === "Bash");
    expect(bashTool?.description).toContain("By default, your command will timeout after 600000ms");
  });

  it("the next turn resumes the session (--resume): the model sees the earlier turn", async () => {
    world.stub.enqueue(text("You asked whether the VM is up."));
    const events = await readTurn(await send(sessionId, "What did I ask?"));
    expect(events[0]?.event).toEqual({ type: "session", sessionId, resumed: true });
    expect(kinds(events).slice(-2)).toEqual(["result", "done"]);
    const req = world.stub.turnRequests()[0]!;
    expect(req.headers["x-claude-code-session-id"]).toBe(sessionId);
    expect(messagesText(req.body)).toContain("Is the VM up?");
    expect(messagesText(req.body)).toContain("up 3 days");
    const view = (await (await call("GET", `/api/sessions/${sessionId}`)).json()) as SessionView;
    expect(view.history.map((h) => h.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("a stop kills the turn and its tool processes; the stream ends with a cancelled error", async () => {
    world.stub.enqueue(toolUse("Bash", { command: "ssh devvm 'sleep 600'", description: "wait" }));
    const id = await newSession();
    const res = await send(id, "Wait a while.");
    const events: ChatEvent[] = [];
    const reading = readTurn(res, {
      onEvent: (e) => {
        events.push(e.event);
        // Not a read-only command: the operator allows it.
        if (e.event.type === "permission")
          void call("POST", `/api/sessions/${id}/permissions/${e.event.id}`, { decision: "allow" });
      },
    });
    // The tool is running once its `sleep` is.
    await eventually(
      async () =>
        (await processesWithEnv({ HOME: world.cli.home })).length > 1 &&
        events.some((e) => e.type === "tool"),
      {
        what: "the tool to run",
        timeoutMs: 60_000,
      },
    );
    expect((await call("DELETE", `/api/sessions/${id}/current`)).status).toBe(202);
    const all = await reading;
    expect(all.at(-2)?.event).toMatchObject({
      type: "error",
      error: "cancelled",
      detail: expect.stringContaining("cancelled"),
      retryable: false,
    });
    expect(all.at(-1)?.event).toEqual({ type: "done" });
    await eventually(async () => (await processesWithEnv({ HOME: world.cli.home })).length === 0, {
      what: "no CLI or tool process left",
      timeoutMs: 30_000,
    });
  });

  it("records spend per caller and model", async () => {
    const metrics = await fetch(`${bg.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/claude_cost_usd_total\{caller="tester",model="claude-sonnet-4-6"\} [0-9.]+/);
    expect(text).toMatch(
      /claude_tokens_total\{caller="tester",model="claude-sonnet-4-6",kind="output"\} [1-9]/,
    );
    expect(text).toContain('breakglass_turns_total{caller="tester",outcome="cancelled"} 1');
  });

  it("after a restart, a client re-creating its session by id resumes the CLI's transcript", async () => {
    await bg.stop();
    bg = await start();
    expect((await call("GET", `/api/sessions/${sessionId}`)).status).toBe(404);
    expect((await call("POST", "/api/sessions", { id: sessionId })).status).toBe(201);
    world.stub.enqueue(text("Still here."));
    const events = await readTurn(await send(sessionId, "Are you there?"));
    expect(events[0]?.event).toEqual({ type: "session", sessionId, resumed: true });
    expect(messagesText(world.stub.turnRequests()[0]!.body)).toContain("What did I ask?");
  });
});
