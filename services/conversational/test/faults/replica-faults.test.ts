import { eventually, type Json, lastUserText, messagesText, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, turn, type World } from "../harness.js";
import { clisOf, isRunning, openConversations, replicaFleet, timings } from "./replica-process.js";

// Replicas that die or freeze mid-turn: real service processes on one nats-server, the real CLI on
// the Messages stub. What must hold is what the delivery table promises: one writer per turn, the
// record holds exactly the turns that succeeded, the next turn sees that history, nothing is left.
let world: World;
const fleet = replicaFleet(() => world);
const times = timings();
let store: Awaited<ReturnType<typeof openConversations>>;

beforeAll(async () => {
  world = await createWorld();
  store = await openConversations(world.nats.url);
});
afterAll(async () => {
  console.log(`\n${times.table("replica faults: phase")}\n`);
  await store?.nc.close();
  await fleet.stopAll();
  await world?.close();
});

/** Settles the request either way: a status and body, or the error the client saw. */
const settled = (p: Promise<{ status: number; body: Json }>) =>
  p.then(
    (r) => ({ status: r.status, body: r.body, error: undefined }),
    (err: unknown) => ({ status: undefined, body: undefined, error: err as Error }),
  );

describe("a replica dies or freezes mid-turn", () => {
  it("SIGKILL while the API holds the reply: the client gets an error, the next turn (another replica) has the completed turns only, no CLI of the dead replica is left", async () => {
    const [a, b] = await Promise.all([fleet.start("fault-a"), fleet.start("fault-b")]);
    world.stub.reset();
    // Turn 2's reply is held far longer than the kill and the takeover take.
    world.stub.enqueue(
      text("Hello Vera."),
      text("Born in Varna.", { firstByteDelayMs: 12_000 }),
      text("Your name is Vera."),
    );
    const t1 = await turn(a.url, { message: "My name is Vera." });
    expect(t1.status).toBe(200);
    const id = t1.body.conversation_id as string;
    expect((await store.record(id))?.record).toMatchObject({ turns: 1, warmOn: "fault-a" });

    // Turn 2 runs on A's warm process; the API has it and answers nothing. A dies holding the lock.
    const killed = settled(turn(a.url, { conversation_id: id, message: "Where was I born?" }));
    await world.stub.waitForTurnRequests(2);
    expect(await store.lockHeld(id)).toBe(true);
    const killedAt = performance.now();
    a.child.kill("SIGKILL");
    await a.exited;
    const outcome = await killed;
    times.add("SIGKILL → client saw the end", performance.now() - killedAt);
    // Not a hang: the connection ends with the process (an error, or a status if one got out).
    expect(outcome.error ?? outcome.status).toBeDefined();
    if (outcome.status !== undefined) expect(outcome.status).not.toBe(200);
    // Every CLI of the dead replica dies with it, the one whose API request is open too (each
    // starts under `setpriv --pdeathsig KILL`): nothing of A is left.
    const orphansAt = performance.now();
    await eventually(async () => (await clisOf(a)).length === 0, {
      what: "no CLI process of the killed replica left",
    });
    times.add("SIGKILL → the killed replica's CLIs gone", performance.now() - orphansAt);

    // The next turn on B waits out A's lock (its lease), takes the conversation over, resumes it cold.
    const t3Start = performance.now();
    const t3 = await turn(b.url, { conversation_id: id, message: "What is my name?" });
    times.add("next turn on the other replica (takeover)", performance.now() - t3Start);
    expect(t3.status).toBe(200);
    expect(t3.body).toMatchObject({ conversation_id: id, reply: "Your name is Vera." });
    const wire = world.stub.turnRequests()[2]!.body;
    expect(messagesText(wire)).toContain("My name is Vera.");
    expect(messagesText(wire)).toContain("Hello Vera.");
    expect(lastUserText(wire)).toContain("What is my name?");
    // The killed turn is not in the history: not asked, not answered.
    expect(messagesText(wire)).not.toContain("Where was I born?");
    expect(wire.messages?.filter((m) => m.role === "user")).toHaveLength(2);
    expect(wire.messages?.filter((m) => m.role === "assistant")).toHaveLength(1);
    // The record holds the two turns that succeeded, the second on B.
    expect((await store.record(id))?.record).toMatchObject({
      turns: 2,
      warmOn: "fault-b",
      sessionId: t1.body.session_id,
    });
    await eventually(async () => !(await store.lockHeld(id)), { what: "B released the lock" });

    // The killed turn's CLI never wrote over anything: the record is B's.
    expect(await clisOf(a)).toEqual([]);
    expect((await store.record(id))?.record).toMatchObject({ turns: 2, warmOn: "fault-b" });
    expect(isRunning(b)).toBe(true);
  });

  it("SIGSTOP past the lease while another replica takes the next turn, then SIGCONT: the thawed replica writes nothing, the record holds exactly the turns that succeeded", async () => {
    const [a, b] = await Promise.all([fleet.start("freeze-a"), fleet.start("freeze-b")]);
    world.stub.reset();
    // By prompt: A's frozen turn gets its reply while A is stopped (its CLI is not), so the reply
    // waits in the pipe for the thaw; every other turn is answered at once.
    world.stub.setHandler((req) => {
      const asked = lastUserText(req.body);
      if (asked.includes("Frozen question")) return text("Frozen answer.", { firstByteDelayMs: 200 });
      if (asked.includes("Question to B")) return text("Answer from B.");
      if (asked.includes("Last question")) return text("Last answer.");
      return text("First answer.");
    });
    const t1 = await turn(a.url, { message: "First question." });
    expect(t1.status).toBe(200);
    const id = t1.body.conversation_id as string;

    const frozen = settled(turn(a.url, { conversation_id: id, message: "Frozen question." }));
    await world.stub.waitForTurnRequests(2);
    const stoppedAt = performance.now();
    a.child.kill("SIGSTOP");
    // B: A's replica lease and conversation lock lapse (2 s), B takes over and answers.
    const t2 = await turn(b.url, { conversation_id: id, message: "Question to B." });
    times.add("next turn on B while A is frozen", performance.now() - stoppedAt);
    expect(t2.status).toBe(200);
    expect(t2.body.reply).toBe("Answer from B.");
    const afterB = await store.record(id);
    expect(afterB?.record).toMatchObject({ turns: 2, warmOn: "freeze-b" });
    await eventually(async () => !(await store.lockHeld(id)), { what: "B released the lock" });

    const thawedAt = performance.now();
    a.child.kill("SIGCONT");
    const outcome = await frozen;
    times.add("SIGCONT → thawed turn answered", performance.now() - thawedAt);
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe(503);
    expect(outcome.body?.error).toBe("conversation_taken_over");
    // Nothing was written over B's turn: the same record, at the same revision; no lock left.
    expect(await store.record(id)).toEqual(afterB);
    expect(await store.lockHeld(id)).toBe(false);

    // A further turn (on A again, now alive) sees turns 1 and B's, not the frozen one.
    const t3 = await turn(a.url, { conversation_id: id, message: "Last question." });
    expect(t3.status).toBe(200);
    expect(t3.body.reply).toBe("Last answer.");
    const wire = world.stub.turnRequests().at(-1)!.body;
    expect(messagesText(wire)).toContain("First answer.");
    expect(messagesText(wire)).toContain("Question to B.");
    expect(messagesText(wire)).toContain("Answer from B.");
    expect(messagesText(wire)).not.toContain("Frozen question.");
    expect(messagesText(wire)).not.toContain("Frozen answer.");
    expect(wire.messages?.filter((m) => m.role === "user")).toHaveLength(3);
    expect((await store.record(id))?.record).toMatchObject({ turns: 3 });
    expect([isRunning(a), isRunning(b)]).toEqual([true, true]);
    // Both stop cleanly and leave nothing.
    for (const r of [a, b]) r.child.kill("SIGTERM");
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    for (const r of [a, b])
      await eventually(async () => (await clisOf(r)).length === 0, { what: `no CLI of ${r.id} left` });
  });
});
