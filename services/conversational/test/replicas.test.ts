import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { transcriptPath } from "@claude-gateway/claude";
import { buckets } from "@claude-gateway/contracts";
import {
  eventually,
  messagesText,
  processesWithEnv,
  type RecordedRequest,
  tempDir,
  text,
} from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockKey } from "../src/lock.js";
import { createWorld, type Json, scrape, streamTurn, turn, type World } from "./harness.js";

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
      // Short leases: a killed replica's conversations are taken over within seconds.
      CONVERSATION_LEASE_SECONDS: "2",
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
/** A replica's CLI processes started for `sessionId` (`--session-id` or `--resume` in argv). */
const clisOf = async (r: Replica, sessionId: string) =>
  (await processesWithEnv({ HOME: r.home })).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(sessionId);
    } catch {
      return false;
    }
  });
const counter = async (r: Replica, kind: string) => {
  const m = new RegExp(`conversational_warm_events_total\\{kind="${kind}"\\} (\\d+)`).exec(
    await scrape(r.url),
  );
  return Number(m?.[1] ?? 0);
};
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
  it("a turn sent to the replica that does not hold the conversation's warm process is forwarded to the one that does", async () => {
    world.stub.enqueue(text("Nice to meet you, Boris."), text("You are Boris. From Plovdiv."));
    const t1 = await turn(a.url, { message: "I am Boris from Plovdiv." });
    expect(t1.status).toBe(200);
    const sessionId = t1.body.session_id as string;
    const bTranscript = transcriptPath(join(b.home, ".claude"), world.cwd, sessionId);
    // Streamed through B: the sentences come from A's warm process, relayed over NATS.
    const t2 = await streamTurn(b.url, { conversation_id: t1.body.conversation_id, message: "Who am I?" });
    expect(t2.status).toBe(200);
    expect(t2.events.filter((e) => e.event === "sentence").map((e) => (e.data as Json).text)).toEqual([
      "You are Boris.",
      "From Plovdiv.",
    ]);
    const done = t2.events.find((e) => e.event === "done")!.data as Json;
    expect(done).toMatchObject({ session_id: sessionId, reply: "You are Boris. From Plovdiv." });
    const [r1, r2] = world.stub.turnRequests();
    expect(messagesText(r2!.body)).toContain("I am Boris from Plovdiv.");
    expect(sessionHeader(r2!)).toBe(sessionHeader(r1!));
    // A ran it: B never resumed the session (no transcript in its HOME, no CLI for that session).
    expect(existsSync(bTranscript)).toBe(false);
    expect(await clisOf(b, sessionId)).toEqual([]);
    expect(await clisOf(a, sessionId)).toHaveLength(1);
    expect(await counter(b, "forwarded")).toBe(1);
  });

  it("the owner killed: the next turn on the other replica takes over cold from the stored transcript, context kept", async () => {
    world.stub.reset();
    world.stub.enqueue(text("Noted: blue."), text("Green, since you changed it."), text("Green."));
    const t1 = await turn(a.url, { message: "My favourite colour is blue." });
    const t2 = await turn(b.url, {
      conversation_id: t1.body.conversation_id,
      message: "Actually it is green.",
    });
    expect(t2.status).toBe(200);
    // A released the conversation's lock once the transcript was stored (after its reply): killed
    // before that, its lock would hold the next turn until it counts as abandoned.
    const nc = await connect({ servers: world.nats.url });
    const kv = await new Kvm(jetstream(nc)).open(buckets.conversations);
    await eventually(
      async () => (await kv.get(lockKey(t1.body.conversation_id as string)))?.operation !== "PUT",
      {
        what: "the conversation's lock released",
      },
    );
    await nc.close();
    a.child.kill("SIGKILL");
    await a.exited;
    const t3 = await turn(b.url, { conversation_id: t1.body.conversation_id, message: "Which colour?" });
    expect(t3.status).toBe(200);
    expect(t3.body.reply).toBe("Green.");
    const r3 = world.stub.turnRequests()[2]!;
    expect(messagesText(r3.body)).toContain("Actually it is green.");
    expect(messagesText(r3.body)).toContain("Green, since you changed it.");
    // B restored the transcript under the same project folder (same cwd) in its own HOME.
    expect(existsSync(transcriptPath(join(b.home, ".claude"), world.cwd, t1.body.session_id as string))).toBe(
      true,
    );
    expect(await counter(b, "taken_over")).toBe(1);
    // A's CLI processes, should any still run without it (in a pod they die with the container).
    for (const pid of await processesWithEnv({ HOME: a.home })) process.kill(pid, "SIGKILL");
    // A third replica takes A's place for the rest of the file.
    a = await startReplica("conv-c");
  });

  it("the owner killed mid-way through a forwarded turn, before it said anything: the turn is taken over and answered, context kept", async () => {
    world.stub.reset();
    world.stub.enqueue(text("Noted: you live in Sofia."), { kind: "hang" }, text("You live in Sofia."));
    const t1 = await turn(a.url, { message: "I live in Sofia." });
    expect(t1.status).toBe(200);
    const id = t1.body.conversation_id as string;
    // B forwards the turn to A, whose warm process sends it to the API, which never answers…
    const t2 = turn(b.url, { conversation_id: id, message: "Where do I live?" });
    await world.stub.waitForTurnRequests(2);
    // …and A dies holding the conversation's lock: B sees A's lease and the lock lapse, and runs it.
    a.child.kill("SIGKILL");
    await a.exited;
    const answered = await t2;
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ conversation_id: id, reply: "You live in Sofia." });
    const r3 = world.stub.turnRequests()[2]!;
    expect(messagesText(r3.body)).toContain("I live in Sofia.");
    expect(messagesText(r3.body)).toContain("Noted: you live in Sofia.");
    expect(messagesText(r3.body)).toContain("Where do I live?");
    expect(await counter(b, "taken_over")).toBe(2);
    // The next turn continues on B's warm process, from the taken-over history.
    world.stub.enqueue(text("Still Sofia."));
    const t3 = await turn(b.url, { conversation_id: id, message: "And now?" });
    expect(t3.body.reply).toBe("Still Sofia.");
    expect(messagesText(world.stub.turnRequests()[3]!.body)).toContain("You live in Sofia.");
    for (const pid of await processesWithEnv({ HOME: a.home })) process.kill(pid, "SIGKILL");
    a = await startReplica("conv-d");
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
