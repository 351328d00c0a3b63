import { readFileSync } from "node:fs";
import { eventually, type Json, lastUserText, messagesText, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSseBlock } from "../../src/test-support/sse.js";
import { AUTH, createWorld, scrape, turn, type World } from "../harness.js";
import {
  clisOf,
  isRunning,
  openConversations,
  type Replica,
  replicaFleet,
  timings,
} from "./replica-process.js";

// Clients that misbehave on a streamed turn: one that hangs up after the first sentence, one that
// reads far slower than the reply is made. A real service process, the real CLI on the stub.
let world: World;
const fleet = replicaFleet(() => world);
const times = timings();
let store: Awaited<ReturnType<typeof openConversations>>;
let svc: Replica;

beforeAll(async () => {
  world = await createWorld();
  store = await openConversations(world.nats.url);
  svc = await fleet.start("client-faults");
});
afterAll(async () => {
  console.log(`\n${times.table("client faults: phase")}\n`);
  await store?.nc.close();
  await fleet.stopAll();
  await world?.close();
});

/** A streamed turn's response, read by the test at its own pace. */
async function openStream(body: Record<string, unknown>, signal?: AbortSignal) {
  const res = await fetch(`${svc.url}/v1/conversational`, {
    method: "POST",
    headers: { ...AUTH, accept: "text/event-stream" },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: Array<{ event: string; data: Json }> = [];
  return {
    events,
    /** Reads one chunk (what the socket has); false at the end of the stream. */
    async readChunk(): Promise<boolean> {
      const { done, value } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const { event, data } = parseSseBlock(buffer.slice(0, end));
        events.push({ event, data: data as Json });
        buffer = buffer.slice(end + 2);
      }
      return true;
    },
  };
}

const sentences = (events: Array<{ event: string; data: Json }>) =>
  events.filter((e) => e.event === "sentence").map((e) => e.data);
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};
/** Turns the replica counted by outcome (`ok`, or the error code). */
async function outcomes(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await scrape(svc.url)).matchAll(
    /conversational_turns_total\{[^}]*outcome="([^"]+)"[^}]*\} (\d+)/g,
  ))
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

describe("a client that misbehaves on a streamed turn", () => {
  it("hangs up after the first sentence: the turn runs to its end (README: it is not cancelled), is recorded, frees the lock and its process; the next turn has the whole history", async () => {
    world.stub.reset();
    const LONG = [
      "One is the first.",
      "Two is the second.",
      "Three is the third.",
      "Four is the fourth.",
      "Five is the fifth.",
      "Six is the sixth.",
    ];
    world.stub.enqueue(
      text("Noted: seven."),
      // Streamed slowly, so the client is gone long before the reply ends.
      text(LONG.join(" "), { chunkSize: 6, delayMs: 40 }),
      text("Seven."),
    );
    const t1 = await turn(svc.url, { message: "Remember the number seven." });
    expect(t1.status).toBe(200);
    const id = t1.body.conversation_id as string;
    const session = t1.body.session_id as string;

    const hangUp = new AbortController();
    const started = performance.now();
    const stream = await openStream({ conversation_id: id, message: "Count to six." }, hangUp.signal);
    while (sentences(stream.events).length === 0) expect(await stream.readChunk()).toBe(true);
    times.add("disconnect: first sentence", performance.now() - started);
    hangUp.abort();
    const heard = sentences(stream.events);
    expect(heard[0]).toEqual({ index: 0, text: "One is the first." });
    expect(stream.events.some((e) => e.event === "done")).toBe(false);

    // The turn goes on without the client: recorded, the lock let go, its process kept for the
    // conversation (one CLI for the session, no second one, nothing cancelled half-way).
    const abortedAt = performance.now();
    await eventually(async () => (await store.record(id))?.record.turns === 2, {
      what: "the abandoned turn recorded",
    });
    await eventually(async () => !(await store.lockHeld(id)), { what: "the lock released" });
    times.add("disconnect → turn recorded, lock released", performance.now() - abortedAt);
    expect((await clisOf(svc)).filter((pid) => cmdline(pid).includes(session))).toHaveLength(1);
    expect(await outcomes()).toEqual({ ok: 2 });

    // The next turn: the history holds the abandoned turn whole (the model said all of it).
    const t3 = await turn(svc.url, { conversation_id: id, message: "Which number?" });
    expect(t3.status).toBe(200);
    expect(t3.body.reply).toBe("Seven.");
    const wire = world.stub.turnRequests().at(-1)!.body;
    expect(messagesText(wire)).toContain("Remember the number seven.");
    expect(messagesText(wire)).toContain("Count to six.");
    expect(messagesText(wire)).toContain("Six is the sixth.");
    expect(lastUserText(wire)).toContain("Which number?");
    const record = (await store.record(id))!.record;
    expect(record.turns).toBe(3);
    expect(wire.messages?.filter((m) => m.role === "user")).toHaveLength(record.turns);
    expect(await outcomes()).toEqual({ ok: 3 });
    expect(isRunning(svc)).toBe(true);
  });

  it("reads far slower than the reply is made: the turn completes without it, every sentence arrives in order, nothing is dropped", async () => {
    world.stub.reset();
    const N = 3000;
    const LONG = Array.from({ length: N }, (_, i) => `Sentence ${i + 1} of the long reply is right here.`);
    world.stub.enqueue(text("Sure."), text(LONG.join(" "), { chunkSize: 400 }), text("That was long."));
    const t1 = await turn(svc.url, { message: "Tell me something long next." });
    expect(t1.status).toBe(200);
    const id = t1.body.conversation_id as string;

    const started = performance.now();
    const stream = await openStream({ conversation_id: id, message: "Now the long one." });
    // The client reads nothing more while the turn runs: the service writes into a full socket.
    await eventually(async () => (await store.record(id))?.record.turns === 2, {
      what: "the turn recorded while its client reads nothing",
      timeoutMs: 60_000,
    });
    times.add("slow consumer: turn recorded (client idle)", performance.now() - started);
    // The conversation is not held by its slow reader: its next turn runs meanwhile.
    const t3 = await turn(svc.url, { conversation_id: id, message: "Short one now." });
    expect(t3.status).toBe(200);
    expect(t3.body.reply).toBe("That was long.");
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain(LONG.at(-1));

    // Then a trickle: one socket read at a time, yielding to the timers between reads.
    const drainFrom = performance.now();
    let reads = 0;
    while (await stream.readChunk()) {
      reads++;
      await new Promise((r) => setTimeout(r, 10));
    }
    times.add(`slow consumer: drained (${reads} reads)`, performance.now() - drainFrom);
    const got = sentences(stream.events);
    expect(got).toHaveLength(N);
    expect(got.map((s) => s.index)).toEqual(LONG.map((_, i) => i));
    expect(got.map((s) => s.text)).toEqual(LONG);
    const done = stream.events.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data).toMatchObject({ conversation_id: id, reply: LONG.join(" ") });
    expect(stream.events.filter((e) => e.event === "error")).toEqual([]);
    expect((await store.record(id))?.record.turns).toBe(3);
    expect(await outcomes()).toEqual({ ok: 6 });
  });

  it("leaves nothing: the replica stops cleanly, no CLI left", async () => {
    svc.child.kill("SIGTERM");
    expect(await svc.exited).toBe(0);
    await eventually(async () => (await clisOf(svc)).length === 0, { what: "no CLI left" });
  });
});
