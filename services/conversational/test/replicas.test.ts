import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { transcriptPath } from "@claude-gateway/claude";
import {
  eventually,
  messagesText,
  processesWithEnv,
  type RecordedRequest,
  tempDir,
  text,
} from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type Json, turn, type World } from "./harness.js";

// Real service processes (the built `dist/main.js`), each with its own fresh HOME, sharing NATS
// and CONVERSATION_CWD: a restarted pod or a second replica must continue the conversation.
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Replica {
  id: string;
  home: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

let world: World;
const homes: Array<{ dir: string; cleanup(): Promise<void> }> = [];
const replicas: Replica[] = [];

async function startReplica(id: string): Promise<Replica> {
  const home = await tempDir(`cg-home-${id}-`);
  homes.push(home);
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home.dir,
      ANTHROPIC_BASE_URL: world.stub.url,
      ANTHROPIC_API_KEY: "sk-ant-test-dummy",
      CLAUDE_CODE_MAX_RETRIES: "0",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      ...world.baseEnv(),
      LOG_LEVEL: "info",
      REPLICA_ID: id,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.includes('"conversational started"')) return;
      resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
    });
    void exited.then((code) => reject(new Error(`replica ${id} exited with ${code}`)));
  });
  const replica = { id, home: home.dir, url, child, exited };
  replicas.push(replica);
  return replica;
}

const isRunning = (r: Replica) => r.child.exitCode === null && r.child.signalCode === null;
const sessionHeader = (r: RecordedRequest) => r.headers["x-claude-code-session-id"];

let a: Replica;
let b: Replica;

beforeAll(async () => {
  world = await createWorld();
  [a, b] = await Promise.all([startReplica("conv-a"), startReplica("conv-b")]);
});
afterAll(async () => {
  for (const r of replicas) if (isRunning(r)) r.child.kill("SIGTERM");
  await Promise.all(replicas.map((r) => r.exited));
  await world?.close();
  await Promise.all(homes.map((h) => h.cleanup()));
});

describe("two service processes sharing NATS", () => {
  it("turn 1 on one process, turn 2 on another with an empty HOME: turn 2 still knows turn 1", async () => {
    // B's HOME has never seen a CLI: no ~/.claude at all.
    expect(await readdir(b.home)).toEqual([]);
    world.stub.enqueue(text("Nice to meet you, Boris."), text("You are Boris, from Plovdiv."));
    const t1 = await turn(a.url, { message: "I am Boris from Plovdiv." });
    expect(t1.status).toBe(200);
    const t2 = await turn(b.url, { conversation_id: t1.body.conversation_id, message: "Who am I?" });
    expect(t2.status).toBe(200);
    expect(t2.body).toMatchObject({ session_id: t1.body.session_id, reply: "You are Boris, from Plovdiv." });

    const [r1, r2] = world.stub.turnRequests();
    expect(messagesText(r2!.body)).toContain("I am Boris from Plovdiv.");
    expect(messagesText(r2!.body)).toContain("Nice to meet you, Boris.");
    expect(sessionHeader(r2!)).toBe(sessionHeader(r1!));
    // B restored the transcript under the same project folder (same cwd) in its own HOME.
    expect(existsSync(transcriptPath(join(b.home, ".claude"), world.cwd, t1.body.session_id))).toBe(true);
  });

  it("back on the first process, its stale local copy is replaced: turn 3 knows turn 2", async () => {
    world.stub.reset();
    world.stub.enqueue(text("Noted: blue."), text("Green, since you changed it."), text("Green."));
    const t1 = await turn(a.url, { message: "My favourite colour is blue." });
    await turn(b.url, { conversation_id: t1.body.conversation_id, message: "Actually it is green." });
    const t3 = await turn(a.url, { conversation_id: t1.body.conversation_id, message: "Which colour?" });
    expect(t3.status).toBe(200);
    const r3 = world.stub.turnRequests()[2]!;
    expect(messagesText(r3.body)).toContain("Actually it is green.");
    expect(messagesText(r3.body)).toContain("Green, since you changed it.");
  });

  it("two turns of one conversation sent to both processes at once run one after the other", async () => {
    world.stub.reset();
    world.stub.enqueue(text("Go ahead."));
    const t1 = await turn(a.url, { message: "Two questions coming." });
    const DELAY = 800;
    let n = 0;
    world.stub.setHandler(() => text(`Answer ${++n}.`, { firstByteDelayMs: DELAY }));
    const id = t1.body.conversation_id;
    const replies = await Promise.all([
      turn(a.url, { conversation_id: id, message: "Question to A." }),
      turn(b.url, { conversation_id: id, message: "Question to B." }),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    const [first, second] = world.stub.turnRequests().slice(1);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(DELAY);
    const firstPrompt = messagesText(first!.body).includes("Question to A.")
      ? "Question to A."
      : "Question to B.";
    expect(messagesText(second!.body)).toContain(firstPrompt);
    expect(messagesText(second!.body)).toContain("Answer 1.");
  });

  it("SIGTERM finishes the turn in flight, then the process exits 0; nothing is left running", async () => {
    world.stub.reset();
    world.stub.setHandler(() => text("Finished during shutdown.", { firstByteDelayMs: 1500 }));
    const inFlight = turn(b.url, { message: "A slow one." });
    await world.stub.waitForTurnRequests(1);
    b.child.kill("SIGTERM");
    const reply: { status: number; body: Json } = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body.reply).toBe("Finished during shutdown.");
    expect(await b.exited).toBe(0);
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    for (const r of replicas) {
      await eventually(async () => (await processesWithEnv({ HOME: r.home })).length === 0, {
        what: `no process of ${r.id} left`,
      });
    }
  });
});
