import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buckets } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import { eventually, lastUserText, messagesText, text } from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { languageInstruction } from "../src/core/turn.js";
import type { RunningConversational } from "../src/start.js";
import { createWorld, type Json, natsTurn, scrape, streamTurn, turn, type World } from "./harness.js";

// Callers with their own tokens under an explicit policy file, the real CLI on the Messages API
// stub, a real nats-server; two service instances share it (replicas).
const POLICY = `
defaults:
  agents: [conversational]
  models: [claude-haiku-4-5, claude-sonnet-4-6]
  maxConcurrent: 10
  requestsPerMinute: 1000
  budgetUsdPerDay: 100
callers:
  alice: { models: [claude-haiku-4-5] }
  bob: {}
  frugal: { budgetUsdPerDay: 0.0001 }   # below one turn's cost
  hasty: { requestsPerMinute: 2 }
  single: { maxConcurrent: 1 }
  ops: { admin: true }
  "nats:voice": {}
`;
const CALLERS = ["alice", "bob", "frugal", "hasty", "single", "ops", "stranger"] as const;
type Caller = (typeof CALLERS)[number];
const tokenOf = (caller: Caller) => `${caller}-token-0123456789`;
const as = (caller: Caller) => ({
  authorization: `Bearer ${tokenOf(caller)}`,
  "content-type": "application/json",
});

let world: World;
let a: RunningConversational;
let b: RunningConversational;
let nc: NatsConnection;
let policyEnv: Record<string, string>;

beforeAll(async () => {
  world = await createWorld();
  const policyFile = join(world.dir, "policy.yaml");
  await writeFile(policyFile, POLICY);
  policyEnv = {
    CALLER_POLICY_FILE: policyFile,
    AUTH_TOKENS: CALLERS.map((c) => `${c}=${tokenOf(c)}`).join(","),
  };
  [a, b] = await Promise.all([
    world.start({ ...policyEnv, REPLICA_ID: "conv-a" }),
    world.start({ ...policyEnv, REPLICA_ID: "conv-b" }),
  ]);
  nc = await connect({ servers: world.nats.url });
});
afterAll(async () => {
  await nc?.close();
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});

const stubTurns = () => world.stub.turnRequests().length;

describe("ownership: a conversation is its starter's", () => {
  it("over HTTP, B can neither continue nor see A's conversation, on either replica", async () => {
    world.stub.enqueue(text("Your secret is safe, Alice."));
    const mine = await turn(a.url, { message: "My secret is 4711." }, as("alice"));
    expect(mine.status).toBe(200);
    const id = mine.body.conversation_id as string;
    const kv = await new Kvm(jetstream(nc)).open(buckets.conversations);
    expect((await kv.get(id))?.json<Json>()).toMatchObject({ createdBy: "tok_alice" });

    for (const svc of [a, b]) {
      const theirs = await turn(svc.url, { conversation_id: id, message: "What is the secret?" }, as("bob"));
      expect(theirs.status).toBe(404);
      expect(theirs.body).toEqual({
        error: "conversation_not_found",
        detail: `no conversation ${id} of yours`,
      });
      const streamed = await streamTurn(svc.url, { conversation_id: id, message: "And now?" }, as("bob"));
      expect(streamed.status).toBe(404);
    }
    // Not even an admin continues someone else's conversation.
    expect((await turn(b.url, { conversation_id: id, message: "Hi" }, as("ops"))).status).toBe(404);
    expect(stubTurns()).toBe(1);

    world.stub.enqueue(text("It is 4711."));
    const again = await turn(b.url, { conversation_id: id, message: "What is my secret?" }, as("alice"));
    expect(again.status).toBe(200);
    expect(messagesText(world.stub.turnRequests()[1]!.body)).toContain("My secret is 4711.");
    expect((await kv.get(id))?.json<Json>()).toMatchObject({ createdBy: "tok_alice", turns: 2 });
  });

  it("over NATS, the subject names the caller: B is refused A's conversation; a payload naming another is a 403", async () => {
    world.stub.enqueue(text("Hello, voice gateway."), text("Continued over HTTP."));
    const voice = await natsTurn(nc, { message: "Started over NATS", caller: "nats_voice" });
    const bob = await natsTurn(nc, {
      conversation_id: voice.conversation_id,
      message: "Mine now?",
      caller: "tok_bob",
    }).catch((e: unknown) => e);
    expect(bob).toBeInstanceOf(RemoteServiceError);
    expect(bob).toMatchObject({ status: 404, code: "conversation_not_found" });
    // HTTP alice is not nats_voice either.
    const http = await turn(a.url, { conversation_id: voice.conversation_id, message: "Hi" }, as("alice"));
    expect(http.status).toBe(404);

    const impostor = await natsTurn(nc, { message: "I am voice", caller: "nats_voice" }, "tok_bob").catch(
      (e: unknown) => e,
    );
    expect(impostor).toMatchObject({ status: 403, code: "caller_mismatch" });
    expect(stubTurns()).toBe(1);

    // A's own HTTP conversation continues over NATS when the request names A.
    const started = await turn(a.url, { message: "Over HTTP first" }, as("alice"));
    const continued = await natsTurn(nc, {
      conversation_id: started.body.conversation_id,
      message: "Then NATS",
      caller: "tok_alice",
    });
    expect(continued.session_id).toBe(started.body.session_id);
    expect(messagesText(world.stub.turnRequests()[2]!.body)).toContain("Over HTTP first");
  });
});

describe("caller-minted conversation ids", () => {
  it("an id unknown for this caller starts a conversation under it; another caller's id is a 404 for this one", async () => {
    world.stub.enqueue(text("Call started."), text("You said call started."));
    const first = await turn(a.url, { conversation_id: "voice-call-0001", message: "Start" }, as("alice"));
    expect(first.status).toBe(200);
    expect(first.body.conversation_id).toBe("voice-call-0001");
    const next = await turn(b.url, { conversation_id: "voice-call-0001", message: "Again" }, as("alice"));
    expect(next.status).toBe(200);
    expect(next.body.session_id).toBe(first.body.session_id);
    expect(messagesText(world.stub.turnRequests()[1]!.body)).toContain("Call started.");

    const bob = await turn(a.url, { conversation_id: "voice-call-0001", message: "Me too" }, as("bob"));
    expect(bob.status).toBe(404);
    expect(bob.body.error).toBe("conversation_not_found");
    const overNats = await natsTurn(nc, {
      conversation_id: "voice-call-0001",
      message: "Me too",
      caller: "nats_voice",
    }).catch((e: unknown) => e);
    expect(overNats).toMatchObject({ status: 404, code: "conversation_not_found" });
    expect(stubTurns()).toBe(2);

    // Over NATS, a minted id starts the named caller's conversation just the same.
    const minted = await natsTurn(nc, {
      conversation_id: "voice-call-0002",
      message: "Hi",
      caller: "nats_voice",
    });
    expect(minted.conversation_id).toBe("voice-call-0002");
  });
});

describe("the caller policy", () => {
  it("budget below one turn's cost: the first turn is answered, the second is a 429 daily_budget_exceeded on the other replica", async () => {
    world.stub.enqueue(text("That will be all for today."));
    const first = await turn(a.url, { message: "One question" }, as("frugal"));
    expect(first.status).toBe(200);
    expect(first.body.reply).toBe("That will be all for today.");
    expect(first.body.usage.costUsd).toBeGreaterThan(0.0001);

    const res = await fetch(`${b.url}/v1/conversational`, {
      method: "POST",
      headers: as("frugal"),
      body: JSON.stringify({ conversation_id: first.body.conversation_id, message: "Another" }),
    });
    expect(res.status).toBe(429);
    const body = (await res.json()) as Json;
    expect(body.error).toBe("daily_budget_exceeded");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(body.retry_after_seconds).toBe(retryAfter);
    expect(stubTurns()).toBe(1);

    const usage = (await (await fetch(`${b.url}/v1/usage`, { headers: as("frugal") })).json()) as Json;
    expect(usage).toMatchObject({
      caller: "tok_frugal",
      budgetUsdPerDay: 0.0001,
      budgetLeftUsd: 0,
      inFlight: 0,
    });
    expect(usage.spentUsdToday).toBeCloseTo(first.body.usage.costUsd, 10);
  });

  it("over the rate: of three turns admitted together, one is a 429 rate_limited with Retry-After", async () => {
    const replies = await Promise.all(
      [a, b, a].map((svc, i) =>
        fetch(`${svc.url}/v1/conversational`, {
          method: "POST",
          headers: as("hasty"),
          body: JSON.stringify({ message: `Quick ${i}` }),
        }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429]);
    const limited = replies.find((r) => r.status === 429)!;
    expect(((await limited.json()) as Json).error).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(stubTurns()).toBe(2);
  });

  it("over the in-flight limit: 429 too_many_in_flight while the caller's turn runs (any replica), fine after", async () => {
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("slow one")
        ? text("Done slowly.", { firstByteDelayMs: 1500 })
        : undefined,
    );
    const slow = turn(a.url, { message: "The slow one" }, as("single"));
    await world.stub.waitForTurnRequests(1);
    const second = await turn(b.url, { message: "Meanwhile" }, as("single"));
    expect(second.status).toBe(429);
    expect(second.body.error).toBe("too_many_in_flight");
    // Another caller is not held up.
    expect((await turn(b.url, { message: "Me" }, as("bob"))).status).toBe(200);
    expect((await slow).status).toBe(200);
    expect((await turn(b.url, { message: "Now" }, as("single"))).status).toBe(200);
  });

  it("a model outside the caller's policy ⇒ 403 model_not_allowed listing what is allowed; nothing runs", async () => {
    const r = await turn(a.url, { message: "Hi", model: "claude-sonnet-4-6" }, as("alice"));
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      error: "model_not_allowed",
      detail: "model 'claude-sonnet-4-6' is not allowed for you; allowed: claude-haiku-4-5",
    });
    expect(stubTurns()).toBe(0);
  });

  it("/v1/usage: the caller's own limits and use behind auth; an admin sees everyone", async () => {
    expect((await fetch(`${a.url}/v1/usage`)).status).toBe(401);
    world.stub.enqueue(text("Counted."));
    await turn(a.url, { message: "Count me" }, as("bob"));
    const own = (await (await fetch(`${b.url}/v1/usage`, { headers: as("bob") })).json()) as Json;
    expect(own).toMatchObject({
      caller: "tok_bob",
      admin: false,
      agents: ["conversational"],
      maxConcurrent: 10,
      inFlight: 0,
    });
    expect(own.spentUsdToday).toBeGreaterThan(0);
    expect(own).not.toHaveProperty("callers");
    const all = (await (await fetch(`${a.url}/v1/usage`, { headers: as("ops") })).json()) as Json;
    expect(all).toMatchObject({ caller: "tok_ops", admin: true });
    const callers = (all.callers as Json[]).map((c) => c.caller);
    expect(callers).toEqual(expect.arrayContaining(["tok_alice", "tok_bob", "tok_frugal", "nats_voice"]));
  });

  it("metric labels: the policy's callers by principal, anyone else as other; per-caller gauges", async () => {
    world.stub.enqueue(text("Hi stranger."));
    expect((await turn(a.url, { message: "Hello" }, as("stranger"))).status).toBe(200);
    const metrics = await scrape(a.url);
    expect(metrics).toMatch(/conversational_turns_total\{caller="tok_alice",kind="new",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/conversational_turns_total\{caller="other",kind="new",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(
      /claude_cost_usd_total\{caller="tok_frugal",model="claude-haiku-4-5"\} [0-9.e-]+/,
    );
    expect(metrics).toMatch(/caller_spend_usd_today\{caller="tok_bob"\} [0-9.e-]+/);
    expect(metrics).toContain('caller_budget_usd_per_day{caller="tok_frugal"} 0.0001');
    expect(metrics).not.toContain("stranger");
  });
});

describe("language tags (BCP-47)", () => {
  it("bg-BG, EN-us and en-GB pick the reply language; anything else is a 400 listing what is accepted", async () => {
    world.stub.enqueue(text("Здравей."), text("Hello."));
    const bg = await turn(a.url, { message: "Здравей", language: "bg-BG" }, as("bob"));
    expect(bg.status).toBe(200);
    const en = await turn(
      a.url,
      { conversation_id: bg.body.conversation_id, message: "Hi", language: "EN-us" },
      as("bob"),
    );
    expect(en.status).toBe(200);
    const [r1, r2] = world.stub.turnRequests();
    expect(lastUserText(r1!.body)).toContain(languageInstruction("bg"));
    expect(lastUserText(r2!.body)).toContain(languageInstruction("en"));
    expect(lastUserText(r2!.body)).not.toContain(languageInstruction("bg"));

    const gb = await natsTurn(nc, { message: "Cheers", language: "en-GB", caller: "tok_bob" });
    expect(gb.model).toBe("claude-haiku-4-5");
    expect(lastUserText(world.stub.turnRequests()[2]!.body)).toContain(languageInstruction("en"));

    for (const language of ["fr", "de-DE", "bulgarian", "en_US"]) {
      const refused = await turn(a.url, { message: "Hi", language }, as("bob"));
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe("invalid_request");
      expect(refused.body.detail).toMatch(
        /^language: .*accepted: bg or en, optionally with a region \(bg-BG, en-US, en-GB/,
      );
    }
    expect(stubTurns()).toBe(3);
  });
});

describe("this replica's turn slots (CONVERSATIONAL_MAX_CONCURRENCY)", () => {
  const slowly = (reply: string) => text(reply, { firstByteDelayMs: 2500 });

  it("full, and no slot within CONVERSATIONAL_QUEUE_WAIT_SECONDS ⇒ 429 too_many_turns with Retry-After", async () => {
    const capped = await world.start({
      ...policyEnv,
      CONVERSATIONAL_MAX_CONCURRENCY: "1",
      CONVERSATIONAL_QUEUE_WAIT_SECONDS: "1",
    });
    world.stub.setHandler((req) => (messagesText(req.body).includes("hold") ? slowly("Held.") : undefined));
    const holding = turn(capped.url, { message: "hold the slot" }, as("alice"));
    await world.stub.waitForTurnRequests(1);
    const res = await fetch(`${capped.url}/v1/conversational`, {
      method: "POST",
      headers: as("bob"),
      body: JSON.stringify({ conversation_id: "never-started", message: "Anyone free?" }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(((await res.json()) as Json).error).toBe("too_many_turns");
    expect((await holding).status).toBe(200);
    expect(stubTurns()).toBe(1);
    // The refused turn held nothing: bob's lease is back, the id it named is still free.
    const usage = (await (await fetch(`${capped.url}/v1/usage`, { headers: as("bob") })).json()) as Json;
    expect(usage.inFlight).toBe(0);
    const later = await turn(capped.url, { conversation_id: "never-started", message: "Now?" }, as("bob"));
    expect(later.status).toBe(200);
    await capped.stop();
  });

  it("turns over the cap wait in line and run in arrival order, one CLI at a time", async () => {
    const capped = await world.start({
      ...policyEnv,
      CONVERSATIONAL_MAX_CONCURRENCY: "1",
      CONVERSATIONAL_QUEUE_WAIT_SECONDS: "60",
    });
    world.stub.setHandler((req) =>
      text(`Re: ${messagesText(req.body).match(/turn \w+/)?.[0] ?? "?"}.`, { firstByteDelayMs: 600 }),
    );
    const first = turn(capped.url, { message: "turn one" }, as("alice"));
    await world.stub.waitForTurnRequests(1);
    const second = turn(capped.url, { message: "turn two" }, as("bob"));
    await eventuallyQueued(capped.url, 1);
    const third = turn(capped.url, { message: "turn three" }, as("ops"));
    await eventuallyQueued(capped.url, 2);
    const replies = await Promise.all([first, second, third]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    const received = world.stub.turnRequests();
    expect(received.map((r) => messagesText(r.body).match(/turn \w+/)?.[0])).toEqual([
      "turn one",
      "turn two",
      "turn three",
    ]);
    // Each started only after the one before had its whole reply.
    for (let i = 1; i < received.length; i++) {
      expect(received[i]!.receivedAt - received[i - 1]!.receivedAt).toBeGreaterThanOrEqual(600);
    }
    await capped.stop();
  });
});

/** Waits until the replica reports `n` turns waiting for a slot. */
const eventuallyQueued = (url: string, n: number) =>
  eventually(async () => (await scrape(url)).includes(`conversational_turns_queued ${n}`), {
    what: `${n} turns queued`,
  });

describe("a bad policy file at start-up", () => {
  it("stops the service (exit 1) with every problem listed", async () => {
    const bad = join(world.dir, "bad-policy.yaml");
    await writeFile(
      bad,
      "defaults:\n  maxConcurrent: 0\n  budgetUsdPerDay: -1\n  colour: blue\ncallers:\n  ci: { agents: general }\n",
    );
    const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: {
        ...world.baseEnv(),
        ...world.cli.env,
        ...policyEnv,
        CALLER_POLICY_FILE: bad,
        LOG_LEVEL: "silent",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("invalid caller policy");
    for (const problem of [
      `${bad}: defaults.maxConcurrent:`,
      `${bad}: defaults.budgetUsdPerDay:`,
      `${bad}: defaults:`,
      "colour",
      `${bad}: callers.ci.agents:`,
    ]) {
      expect(stderr).toContain(problem);
    }
  });
});
