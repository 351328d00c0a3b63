import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, lastUserText, messagesText, processesWithEnv, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createWorld, scrape, turn, type World } from "./harness.js";

// Warm CLI processes: the real pinned CLI on the Messages stub, a real nats-server, services
// in-process. Each service gets a HOME of its own, so its CLI processes can be counted.
let world: World;
const homes: string[] = [];

beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.close();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});
beforeEach(() => {
  world.stub.reset();
});

async function service(env: Record<string, string> = {}) {
  const home = await mkdtemp(join(tmpdir(), "cg-warm-home-"));
  homes.push(home);
  const svc = await world.start(env, { ...world.cli.env, HOME: home });
  const clis = () => processesWithEnv({ HOME: home, CLAUDE_CODE_MAX_RETRIES: "0" });
  /** Its CLI processes started for `sessionId` (`--session-id` or `--resume` in argv). */
  const clisOf = async (sessionId: string) =>
    (await clis()).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(sessionId));
  const counter = async (kind: string) => {
    const m = new RegExp(`conversational_warm_events_total\\{kind="${kind}"\\} (\\d+)`).exec(
      await scrape(svc.url),
    );
    return Number(m?.[1] ?? 0);
  };
  return { svc, clis, clisOf, counter };
}

describe("a conversation's warm process", () => {
  it("serves every turn of the conversation: one process, the whole history on the wire", async () => {
    const { svc, clisOf, counter } = await service();
    world.stub.enqueue(text("Hello Ada."), text("You are Ada."), text("Still Ada."));
    const t1 = await turn(svc.url, { message: "I am Ada." });
    const id = t1.body.conversation_id;
    const pids = await clisOf(t1.body.session_id);
    expect(pids).toHaveLength(1);
    const t2 = await turn(svc.url, { conversation_id: id, message: "Who am I?" });
    const t3 = await turn(svc.url, { conversation_id: id, message: "Again?" });
    expect([t2.body.reply, t3.body.reply]).toEqual(["You are Ada.", "Still Ada."]);
    // The same process ran turns 2 and 3: nothing was started for them.
    expect(await clisOf(t1.body.session_id)).toEqual(pids);
    expect(await counter("hit")).toBe(2);
    const last = world.stub.turnRequests().at(-1)!;
    expect(messagesText(last.body)).toContain("I am Ada.");
    expect(messagesText(last.body)).toContain("You are Ada.");
    // Each turn's spend is its own (the CLI sums over the process's life).
    expect(t3.body.usage.costUsd).toBeGreaterThan(0);
    expect(t3.body.usage.costUsd).toBeLessThan(
      t1.body.usage.costUsd + t2.body.usage.costUsd + t3.body.usage.costUsd,
    );
    expect(await scrape(svc.url)).toMatch(/conversational_first_sentence_seconds_count\{start="warm"\} 2/);
    await svc.stop();
  });

  it("a model change switches the warm process in place: the next request has the new model and the history", async () => {
    const { svc, clisOf } = await service();
    world.stub.enqueue(text("On haiku."), text("On sonnet."));
    const t1 = await turn(svc.url, { message: "first" });
    expect(t1.body.model).toBe("claude-haiku-4-5");
    const pids = await clisOf(t1.body.session_id);
    const t2 = await turn(svc.url, {
      conversation_id: t1.body.conversation_id,
      message: "second",
      model: "claude-sonnet-4-6",
    });
    expect(t2.status).toBe(200);
    expect(t2.body.model).toBe("claude-sonnet-4-6");
    const last = world.stub.turnRequests().at(-1)!;
    expect(last.body.model).toBe("claude-sonnet-4-6");
    expect(messagesText(last.body)).toContain("On haiku.");
    expect(await clisOf(t1.body.session_id)).toEqual(pids);
    await svc.stop();
  });

  it("is closed after WARM_IDLE_SECONDS; the next turn resumes cold with the context kept", async () => {
    const { svc, clisOf, counter } = await service({ WARM_IDLE_SECONDS: "1", PREWARM_POOL_SIZE: "0" });
    world.stub.enqueue(text("Noted: walnut."), text("It was walnut."));
    const t1 = await turn(svc.url, { message: "Remember walnut." });
    await eventually(async () => (await clisOf(t1.body.session_id)).length === 0, {
      what: "the idle process closed",
    });
    expect(await counter("expired")).toBe(1);
    const t2 = await turn(svc.url, { conversation_id: t1.body.conversation_id, message: "Which word?" });
    expect(t2.status).toBe(200);
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("Remember walnut.");
    await svc.stop();
  });

  it("when every slot is held, the longest idle conversation's process makes room (LRU)", async () => {
    const { svc, clis, clisOf, counter } = await service({
      CONVERSATIONAL_MAX_CONCURRENCY: "2",
      PREWARM_POOL_SIZE: "0",
    });
    world.stub.setDefault(text("Fine."));
    const a = await turn(svc.url, { message: "conversation A" });
    const b = await turn(svc.url, { message: "conversation B" });
    await turn(svc.url, { conversation_id: b.body.conversation_id, message: "B again" });
    expect((await clis()).length).toBe(2);
    // A third conversation needs a slot: A, idle longest, is closed; B stays warm.
    const c = await turn(svc.url, { message: "conversation C" });
    expect(c.status).toBe(200);
    await eventually(async () => (await clisOf(a.body.session_id)).length === 0, { what: "A closed" });
    expect(await clisOf(b.body.session_id)).toHaveLength(1);
    expect(await counter("evicted")).toBe(1);
    // A goes on, cold, with its context.
    const a2 = await turn(svc.url, { conversation_id: a.body.conversation_id, message: "A again" });
    expect(a2.status).toBe(200);
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("conversation A");
    await svc.stop();
  });
});

describe("the prewarmed pool", () => {
  it("serves new conversations from processes started beforehand, each to one conversation only", async () => {
    const { svc, clis, counter } = await service({ PREWARM_POOL_SIZE: "1" });
    await eventually(async () => (await clis()).length === 1, { what: "one prewarmed process" });
    world.stub.enqueue(text("Got the secret."), text("Hello stranger."));
    const x = await turn(svc.url, { message: "The secret is hazelnut-42." });
    expect(x.status).toBe(200);
    expect(await counter("pool_hit")).toBe(1);
    // Refilled: the next new conversation gets another fresh process, not X's.
    await eventually(async () => (await clis()).length === 2, { what: "the pool refilled" });
    const y = await turn(svc.url, { message: "Hi, who are you?" });
    expect(y.status).toBe(200);
    expect(await counter("pool_hit")).toBe(2);
    expect(y.body.session_id).not.toBe(x.body.session_id);
    const yRequest = world.stub.turnRequests().at(-1)!;
    expect(lastUserText(yRequest.body)).toContain("Hi, who are you?");
    expect(messagesText(yRequest.body)).not.toContain("hazelnut-42");
    expect(yRequest.body.model).toBe("claude-haiku-4-5");
    await svc.stop();
    expect(await clis()).toEqual([]);
  });
});
