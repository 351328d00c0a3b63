import { type ChildProcess, spawn } from "node:child_process";
import { chmod } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  eventually,
  type MessagesStub,
  messagesText,
  startMessagesStub,
  tempDir,
  text,
} from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The stack exactly as `pnpm start` runs it (scripts/start-stack.mjs: its own nats-server, every
// built service, the built-in caller policy of a fresh install), with the real CLI behind it talking to the
// Messages API stub.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "e2e-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
/** Breakglass has tokens of its own (`BREAKGLASS_AUTH_TOKENS`): the callers' do not open it. */
const BREAKGLASS_TOKEN = "e2e-breakglass-token-0123456789";
const breakglassAuth = { authorization: `Bearer ${BREAKGLASS_TOKEN}`, "content-type": "application/json" };
const METRICS_TOKEN = "e2e-metrics-token-0123456789";

let stub: MessagesStub;
let cli: ClaudeTestEnv;
let data: { dir: string; cleanup(): Promise<void> };
let stack: ChildProcess;
const ports: Record<string, number> = {};
const log: string[] = [];
const url = (svc: string) => `http://127.0.0.1:${ports[svc]}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  stub = await startMessagesStub();
  cli = await claudeTestEnv(stub.url);
  data = await tempDir("cg-e2e-");
  // As root the executor runs each job as a runner user, who must pass through to the workspace.
  await chmod(data.dir, 0o711);
  for (const svc of ["nats", "openai-gateway", "conversational", "executor", "breakglass"])
    ports[svc] = await freePort();
  stack = spawn(process.execPath, ["scripts/start-stack.mjs"], {
    cwd: ROOT,
    env: {
      ...cli.env,
      IS_SANDBOX: "1",
      AUTH_TOKENS: `e2e=${TOKEN}`,
      BREAKGLASS_AUTH_TOKENS: `owner=${BREAKGLASS_TOKEN}`,
      METRICS_TOKEN,
      STACK_NATS_PORT: String(ports.nats),
      STACK_DATA_DIR: data.dir,
      OPENAI_GATEWAY_PORT: String(ports["openai-gateway"]),
      CONVERSATIONAL_PORT: String(ports.conversational),
      EXECUTOR_PORT: String(ports.executor),
      BREAKGLASS_PORT: String(ports.breakglass),
      WORKSPACE_ROOT: `${data.dir}/workspaces`,
      CONVERSATION_CWD: `${data.dir}/conversations`,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  for (const s of [stack.stdout!, stack.stderr!])
    createInterface({ input: s }).on("line", (l) => log.push(l));
  await eventually(
    async () => {
      for (const svc of ["executor", "openai-gateway", "conversational", "breakglass"]) {
        const r = await fetch(`${url(svc)}/healthz`).catch(() => undefined);
        if (r?.status !== 200) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, what: `the stack to start; log:\n${log.slice(-20).join("\n")}` },
  );
});

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = new Promise((r) => stack.once("exit", r));
    stack.kill("SIGINT");
    await exited;
  }
  await stub?.close();
  await cli?.cleanup();
  await data?.cleanup();
});

describe("the stack as `pnpm start` runs it", () => {
  it("executor: a fresh install's policy refuses an agent with tools, and runs the default agent's job to success", async () => {
    const refused = await fetch(`${url("executor")}/execute`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ agent: "recruiter-triage", prompt: "e2e-exec" }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe("agent_not_allowed");
    stub.setHandler((req) =>
      messagesText(req.body).includes("e2e-exec") ? text("executor says hi") : undefined,
    );
    const res = await fetch(`${url("executor")}/execute`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ agent: "assistant", prompt: "e2e-exec" }),
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await eventually(async () => {
      const j = (
        (await (await fetch(`${url("executor")}/jobs/${jobId}`, { headers: auth })).json()) as {
          job: { status: string };
        }
      ).job;
      return j.status === "succeeded" ? j : undefined;
    });
    expect(job).toMatchObject({ status: "succeeded", result: { text: "executor says hi" } });
  });

  it("openai-gateway: the openai SDK gets a completion through the executor", async () => {
    stub.setHandler((req) =>
      messagesText(req.body).includes("e2e-oai") ? text("gateway says hi") : undefined,
    );
    const client = new OpenAI({ baseURL: `${url("openai-gateway")}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "e2e-oai" }],
    });
    expect(r.choices[0]?.message.content).toBe("gateway says hi");
    expect(r.model).toBe("claude-haiku-4-5");
  });

  it("conversational: two turns of one conversation, the second knows the first", async () => {
    stub.setHandler((req) => {
      const sent = messagesText(req.body);
      if (!sent.includes("e2e-conv")) return undefined;
      return text(sent.includes("second") ? "You said first." : "Noted.");
    });
    const turn = async (body: Record<string, unknown>) => {
      const res = await fetch(`${url("conversational")}/v1/conversational`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { conversation_id: string; reply: string };
    };
    const first = await turn({ message: "e2e-conv first", language: "en" });
    expect(first.reply).toBe("Noted.");
    const second = await turn({ conversation_id: first.conversation_id, message: "e2e-conv second" });
    expect(second.reply).toBe("You said first.");
    const sent = messagesText(stub.turnRequests().at(-1)!.body);
    expect(sent).toContain("e2e-conv first");
  });

  it("breakglass: its own tokens only; a chat turn streams over SSE; VM verbs say SSH is not configured", async () => {
    stub.setHandler((req) =>
      messagesText(req.body).includes("e2e-bg") ? text("The VM looks fine.") : undefined,
    );
    const base = url("breakglass");
    const shared = await fetch(`${base}/api/sessions`, { method: "POST", headers: auth, body: "{}" });
    expect(shared.status).toBe(401);
    const created = await fetch(`${base}/api/sessions`, {
      method: "POST",
      headers: breakglassAuth,
      body: "{}",
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const res = await fetch(`${base}/api/sessions/${id}/messages`, {
      method: "POST",
      headers: breakglassAuth,
      body: JSON.stringify({ text: "e2e-bg" }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const body = await res.text();
    expect(body).toContain("event: session");
    expect(body).toContain("The VM looks fine.");
    expect(body).toContain("event: done");
    const vm = await fetch(`${base}/api/vm/status`, { method: "POST", headers: breakglassAuth, body: "{}" });
    expect(vm.status).toBe(503);
    expect((await fetch(`${base}/api/vm`, { headers: breakglassAuth })).status).toBe(200);
    // /metrics: the metrics token only, not the console's own.
    expect((await fetch(`${base}/metrics`, { headers: breakglassAuth })).status).toBe(401);
    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('breakglass_turns_total{caller="owner",outcome="ok"} 1');
  });

  it("its bus is not open: NATS asks for credentials and refuses a connection without them", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      let seen = "";
      const socket = createConnection({ host: "127.0.0.1", port: ports.nats! }, () => {
        socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
      });
      socket.on("data", (chunk) => {
        seen += chunk.toString("utf8");
        if (/-ERR|PONG/.test(seen)) {
          socket.destroy();
          resolve(seen);
        }
      });
      socket.on("error", reject);
    });
    const info = JSON.parse(answer.slice(answer.indexOf("{"), answer.indexOf("\r\n"))) as {
      auth_required?: boolean;
    };
    expect(info.auth_required).toBe(true);
    expect(answer).toMatch(/-ERR 'Authorization Violation'/);
    expect(answer).not.toMatch(/PONG/);
  });

  it("a clean stop on Ctrl-C (SIGINT): services first, then NATS, exit 0", async () => {
    const exited = new Promise<number | null>((r) => stack.once("exit", (code) => r(code)));
    stack.kill("SIGINT");
    expect(await exited).toBe(0);
    const stopped = log.filter((l) => /executor stopped|exited/.test(l));
    expect(stopped.length).toBeGreaterThan(0);
  });
});
