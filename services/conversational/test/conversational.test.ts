import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { claudeConfigDir, transcriptPath } from "@claude-gateway/claude";
import { buckets, ConversationalReply, ConversationalRequest, subjects } from "@claude-gateway/contracts";
import { RemoteServiceError, request } from "@claude-gateway/nats";
import {
  apiError,
  eventually,
  lastUserText,
  messagesText,
  processesWithEnv,
  type RecordedRequest,
  streamGate,
  systemText,
  text,
  toolUse,
} from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { languageInstruction } from "../src/core/turn.js";
import { type RunningConversational, TRANSCRIPTS_BUCKET } from "../src/start.js";
import { AUTH, createWorld, scrape, streamTurn, TOKEN, turn, type World } from "./harness.js";

// The real pinned CLI against the Messages API stub, a real nats-server, the service in-process.
let world: World;
let svc: RunningConversational;
let nc: NatsConnection;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  world = await createWorld();
  svc = await world.start();
  nc = await connect({ servers: world.nats.url });
});
afterAll(async () => {
  await nc?.close();
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});

const cliProcesses = () => processesWithEnv({ HOME: world.cli.home, CLAUDE_CODE_MAX_RETRIES: "0" });
const sessionHeader = (r: RecordedRequest) => r.headers["x-claude-code-session-id"];
/** What a request's tools offer: nothing, for this agent. */
const toolsOffered = (r: RecordedRequest) => (r.body.tools ?? []).map((t) => t.name);

describe("a conversation over HTTP", () => {
  it("a turn without conversation_id starts one: a new session, the agent's model, no tools, spend recorded", async () => {
    world.stub.enqueue(text("Hello! I am your assistant."));
    const r = await turn(svc.url, { message: "Hi there" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ reply: "Hello! I am your assistant.", model: "claude-haiku-4-5" });
    expect(ConversationalReply.safeParse(r.body).success).toBe(true);
    expect(r.body.conversation_id).toMatch(UUID);
    expect(r.body.session_id).toMatch(UUID);
    expect(r.body.usage.inputTokens).toBeGreaterThan(0);
    expect(r.body.usage.costUsd).toBeGreaterThan(0);
    expect(r.body.duration_ms).toBeGreaterThan(0);

    const [req] = world.stub.turnRequests();
    expect(req!.body.model).toBe("claude-haiku-4-5");
    expect(toolsOffered(req!)).toEqual([]);
    expect(systemText(req!.body)).toContain("You are a voice assistant");
    expect(messagesText(req!.body)).toContain("Hi there");
    expect(sessionHeader(req!)).toBe(r.body.session_id);

    // The session is on disk under the shared cwd, in the object store, and the record in KV.
    expect(existsSync(transcriptPath(claudeConfigDir(world.cli.env), world.cwd, r.body.session_id))).toBe(
      true,
    );
    // Stored right after the reply (off its path; the conversation's next turn waits for it).
    const store = await new Objm(jetstream(nc)).open(TRANSCRIPTS_BUCKET);
    await eventually(async () => (await store.getBlob(`${r.body.session_id}.jsonl`)) !== null, {
      what: "the transcript stored",
    });
    const kv = await new Kvm(jetstream(nc)).open(buckets.conversations);
    const record = (await kv.get(r.body.conversation_id))?.json<Record<string, unknown>>();
    expect(record).toMatchObject({ sessionId: r.body.session_id, turns: 1, createdBy: "tok_tester" });
    // The record names exactly the bytes stored (one snapshot, taken after the turn), and the
    // snapshot is removed once stored.
    const stored = await store.getBlob(`${r.body.session_id}.jsonl`);
    expect(createHash("sha256").update(stored!).digest("hex")).toBe(record?.transcriptSha256);
    const dir = dirname(transcriptPath(claudeConfigDir(world.cli.env), world.cwd, r.body.session_id));
    await eventually(async () => readdirSync(dir).every((f) => !f.endsWith(".snapshot")), {
      what: "the snapshot removed",
    });
  });

  it("the next turns resume the session: turn 2 knows turn 1, and the reply follows the language", async () => {
    world.stub.enqueue(
      text("Nice to meet you, Ada."),
      text("Казваш се Ада."),
      text("Your name is Ada, and you asked twice."),
    );
    const t1 = await turn(svc.url, { message: "My name is Ada. Remember it." });
    const t2 = await turn(svc.url, {
      conversation_id: t1.body.conversation_id,
      message: "Как се казвам?",
      language: "bg",
    });
    expect(t2.status).toBe(200);
    expect(t2.body).toMatchObject({
      conversation_id: t1.body.conversation_id,
      session_id: t1.body.session_id,
      reply: "Казваш се Ада.",
    });
    const t3 = await turn(svc.url, {
      conversation_id: t1.body.conversation_id,
      message: "And in English?",
      language: "en",
    });
    expect(t3.status).toBe(200);

    const [r1, r2, r3] = world.stub.turnRequests();
    expect(messagesText(r2!.body)).toContain("My name is Ada. Remember it.");
    expect(messagesText(r2!.body)).toContain("Nice to meet you, Ada.");
    expect(messagesText(r2!.body)).toContain("Как се казвам?");
    // The language travels with its message (a warm process's system prompt is fixed at its start).
    expect(lastUserText(r2!.body)).toContain(languageInstruction("bg"));
    expect(lastUserText(r3!.body)).toContain(languageInstruction("en"));
    expect(lastUserText(r3!.body)).not.toContain(languageInstruction("bg"));
    expect(systemText(r3!.body)).not.toContain("Speech recognition heard");
    expect(messagesText(r3!.body)).toContain("Казваш се Ада.");
    for (const r of [r1, r2, r3]) {
      expect(sessionHeader(r!)).toBe(t1.body.session_id);
      expect(toolsOffered(r!)).toEqual([]);
    }
  });

  it("an unsupported model ⇒ 400 listing the ids, bad input ⇒ 400; nothing runs", async () => {
    const model = await turn(svc.url, { message: "hi", model: "gpt-4o" });
    expect(model.status).toBe(400);
    expect(model.body.error).toBe("model_not_supported");
    expect(model.body.detail).toContain("claude-haiku-4-5");
    for (const body of [
      {},
      { message: "" },
      { message: "hi", language: "fr" },
      { message: "hi", extra: 1 },
      { message: "hi", caller: "tok_someone" },
    ]) {
      const bad = await turn(svc.url, body);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe("invalid_request");
    }
    const notJson = await fetch(`${svc.url}/v1/conversational`, { method: "POST", headers: AUTH, body: "{" });
    expect(notJson.status).toBe(400);
    expect(world.stub.turnRequests()).toHaveLength(0);
  });

  it("auth: missing and wrong tokens ⇒ 401, the right one ⇒ 200", async () => {
    const missing = await turn(svc.url, { message: "hi" }, { "content-type": "application/json" });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe("unauthorized");
    const wrong = await turn(
      svc.url,
      { message: "hi" },
      { "content-type": "application/json", authorization: "Bearer not-the-token-000000" },
    );
    expect(wrong.status).toBe(401);
    expect(world.stub.turnRequests()).toHaveLength(0);
    const right = await turn(
      svc.url,
      { message: "hi" },
      { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    );
    expect(right.status).toBe(200);
  });
});

describe("safety: the agent can execute nothing", () => {
  it("a Bash tool_use from the model runs nothing: no marker file, no tool offered, the CLI refuses the call", async () => {
    const marker = join(world.cwd, "marker");
    world.stub.enqueue(
      toolUse("Bash", { command: `touch ${marker}` }, { preamble: "Sure, running it." }),
      text("I cannot run commands."),
    );
    const r = await turn(svc.url, { message: "Please run: touch marker" });
    expect(r.status).toBe(200);
    expect(existsSync(marker)).toBe(false);
    const requests = world.stub.turnRequests();
    expect(requests).toHaveLength(2);
    for (const req of requests) expect(toolsOffered(req)).toEqual([]);
    // The CLI answered the tool call with an error instead of running it.
    const results = JSON.stringify(requests[1]!.body.messages);
    expect(results).toContain('"type":"tool_result"');
    expect(results).toContain('"is_error":true');
    expect(results).toContain("No such tool available");
  });
});

describe("CLI failures ⇒ 503", () => {
  it("an upstream error ⇒ 503 upstream_error; a 401 from the API ⇒ 503 claude_not_authenticated", async () => {
    world.stub.enqueue(apiError(500, "internal stub failure"));
    const upstream = await turn(svc.url, { message: "hi" });
    expect(upstream.status).toBe(503);
    expect(upstream.body.error).toBe("upstream_error");
    expect(upstream.body.detail).not.toContain("\n");

    world.stub.enqueue(apiError(401, "invalid x-api-key"));
    const auth = await turn(svc.url, { message: "hi" });
    expect(auth.status).toBe(503);
    expect(auth.body.error).toBe("claude_not_authenticated");

    // The subscription rate-limited: the CLI's own retries are the API's business, the turn fails.
    world.stub.setDefault(apiError(429, "rate limited"));
    const limited = await turn(svc.url, { message: "hi" });
    world.stub.reset();
    expect(limited.status).toBe(503);
    expect(limited.body.error).toBe("upstream_error");
  });

  it("a warm process that dies mid-turn is replaced by a cold resume: the turn is answered, the context kept", async () => {
    world.stub.enqueue(text("First answer."));
    const t1 = await turn(svc.url, { message: "Start" });
    let crashSeen = 0;
    world.stub.setHandler((req) =>
      lastUserText(req.body).includes("[crash]") && crashSeen++ === 0 ? { kind: "hang" } : undefined,
    );
    world.stub.enqueue(text("Back again."));
    // The conversation's warm process: started for its session (`--session-id <id>` in argv).
    const warm = (await cliProcesses()).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(t1.body.session_id),
    );
    expect(warm).toHaveLength(1);
    const dying = turn(svc.url, { conversation_id: t1.body.conversation_id, message: "[crash] now" });
    await world.stub.waitForTurnRequests(2);
    process.kill(warm[0]!, "SIGKILL");
    const answered = await dying;
    expect(answered.status).toBe(200);
    expect(answered.body.reply).toBe("Back again.");
    const resumed = world.stub.turnRequests().at(-1)!;
    expect(messagesText(resumed.body)).toContain("First answer.");
    expect(lastUserText(resumed.body)).toContain("[crash] now");
    expect(sessionHeader(resumed)).toBe(t1.body.session_id);
    expect(await scrape(svc.url)).toMatch(
      /conversational_turns_total\{caller="other",kind="resume",outcome="ok"\}/,
    );
  });

  it("a CLI that dies on a cold turn ⇒ 503 crashed; the next turn is served", async () => {
    const cold = await world.start({ PREWARM_POOL_SIZE: "0" });
    world.stub.setHandler((req) =>
      lastUserText(req.body).includes("[crash]") ? { kind: "hang" } : undefined,
    );
    const before = new Set(await cliProcesses());
    const dying = turn(cold.url, { message: "[crash] now" });
    await world.stub.waitForTurnRequests(1);
    const its = (await cliProcesses()).filter((pid) => !before.has(pid));
    expect(its.length).toBeGreaterThan(0);
    for (const pid of its) process.kill(pid, "SIGKILL");
    const crashed = await dying;
    expect(crashed.status).toBe(503);
    expect(crashed.body.error).toBe("crashed");
    world.stub.setHandler(undefined);
    world.stub.enqueue(text("Still here."));
    expect((await turn(cold.url, { message: "Are you there?" })).status).toBe(200);
    await cold.stop();
  });

  it("a turn over CONVERSATIONAL_TIMEOUT_SECONDS ⇒ 503 timeout, and its CLI is stopped", async () => {
    const quick = await world.start({ CONVERSATIONAL_TIMEOUT_SECONDS: "2", PREWARM_POOL_SIZE: "0" });
    world.stub.setHandler(() => ({ kind: "hang" }));
    const before = new Set(await cliProcesses());
    // The CLIs the turn started, seen while it runs (on a loaded machine the deadline may pass
    // before the CLI even reached the API: the outcome is the same).
    const its = new Set<number>();
    let settled = false;
    const pending = turn(quick.url, { message: "never answered" }).finally(() => {
      settled = true;
    });
    while (!settled) {
      for (const pid of await cliProcesses()) if (!before.has(pid)) its.add(pid);
      await new Promise((r) => setTimeout(r, 25));
    }
    const r = await pending;
    expect(its.size).toBeGreaterThan(0);
    expect(r.status).toBe(503);
    expect(r.body.error).toBe("timeout");
    await eventually(async () => (await cliProcesses()).every((pid) => !its.has(pid)), {
      what: "the turn's CLI gone",
    });
    await quick.stop();
  });
});

describe("concurrency", () => {
  it("two turns of one conversation sent together run one after the other, the second knowing the first", async () => {
    world.stub.enqueue(text("Ready."));
    const t1 = await turn(svc.url, { message: "Let us begin." });
    const DELAY = 800;
    let n = 0;
    world.stub.setHandler(() => text(`Answer number ${++n}.`, { firstByteDelayMs: DELAY }));
    const before = world.stub.turnRequests().length;
    const id = t1.body.conversation_id;
    const [a, b] = await Promise.all([
      turn(svc.url, { conversation_id: id, message: "Message alpha." }),
      turn(svc.url, { conversation_id: id, message: "Message beta." }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [first, second] = world.stub.turnRequests().slice(before);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    // The first response took at least DELAY to complete; the second request came after it.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(DELAY);
    const firstPrompt = messagesText(first!.body).includes("Message alpha.")
      ? "Message alpha."
      : "Message beta.";
    expect(messagesText(second!.body)).toContain(firstPrompt);
    expect(messagesText(second!.body)).toContain("Answer number 1.");
  });
});

describe("streaming (server-sent events)", () => {
  it("sentence events arrive while the reply is still being generated, then done with the full reply", async () => {
    const sentences = [
      "The first sentence is short.",
      "Then a second one follows, e.g. with an abbreviation and 3.5 as a number.",
      "A third sentence keeps the stream going for a while.",
      "Here is the fourth one, still spoken aloud.",
      "The fifth sentence is almost the last.",
      "And this is the end of the story.",
    ];
    const long = sentences.join(" ");
    const CHUNK = 8;
    // The first sentence is decided by the chunk holding the second sentence's first letter; the
    // stub sends up to that chunk, then holds the rest until this client has the first sentence.
    // A service that buffered until the end would never send it while the stub waits.
    const deciding = Math.floor(long.indexOf(sentences[1]!) / CHUNK);
    const gate = streamGate();
    world.stub.enqueue(
      text(long, { chunkSize: CHUNK, pauseAfterDeltas: { count: deciding + 1, until: gate.until } }),
    );
    const { status, events } = await streamTurn(svc.url, { message: "Tell me a story" }, undefined, (e) => {
      if (e.event === "sentence") gate.open();
    });
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual([...sentences.map(() => "sentence"), "done"]);
    expect(events.slice(0, -1).map((e) => e.data)).toEqual(sentences.map((text, index) => ({ index, text })));
    const done = events.at(-1)!;
    expect(done.data).toMatchObject({ reply: long, model: "claude-haiku-4-5" });
    expect(ConversationalReply.safeParse(done.data).success).toBe(true);
    expect(gate.openedBy()).toBe("test");

    const metrics = await scrape(svc.url);
    expect(metrics).toMatch(/conversational_first_sentence_seconds_count\{start="(warm|pool|cold)"\} [1-9]/);
  });

  it("a stream that fails before its first sentence is a plain 503", async () => {
    world.stub.enqueue(apiError(529, "overloaded"));
    const { status, events } = await streamTurn(svc.url, { message: "hi" });
    expect(status).toBe(503);
    expect(events).toEqual([
      { event: "http", data: expect.objectContaining({ error: "upstream_error" }), at: 0 },
    ]);
  });
});

describe("NATS", () => {
  it("the turn endpoint shares conversations with HTTP; errors carry the status and code", async () => {
    world.stub.enqueue(text("Hello from NATS."), text("And back over HTTP."));
    const reply = await request(nc, {
      subject: subjects.conversational.turn("tok_tester"),
      request: ConversationalRequest,
      response: ConversationalReply,
      payload: { message: "Over NATS" },
      timeoutMs: 60_000,
    });
    expect(reply).toMatchObject({ reply: "Hello from NATS.", model: "claude-haiku-4-5" });
    const http = await turn(svc.url, { conversation_id: reply.conversation_id, message: "Continue" });
    expect(http.status).toBe(200);
    expect(messagesText(world.stub.turnRequests()[1]!.body)).toContain("Hello from NATS.");

    const err = await request(nc, {
      subject: subjects.conversational.turn("nats_someone-else"),
      request: ConversationalRequest,
      response: ConversationalReply,
      payload: { conversation_id: reply.conversation_id, message: "x" },
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);
    // The envelope crossed NATS and came back as a typed error: status, code and detail as HTTP has them.
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toMatchObject({ status: 404, code: "conversation_not_found" });
    expect((err as RemoteServiceError).detail).toMatch(
      new RegExp(`^no conversation ${reply.conversation_id} `),
    );
    expect(world.stub.turnRequests()).toHaveLength(2);

    // The permissive policy names no caller: both turns are labelled `other` (labels stay bounded).
    const metrics = await scrape(svc.url);
    expect(metrics).toMatch(/claude_cost_usd_total\{caller="other",model="claude-haiku-4-5"\} [0-9.e-]+/);
    expect(metrics).toContain('claude_tokens_total{caller="other",model="claude-haiku-4-5",kind="input"}');
    expect(metrics).toMatch(/conversational_turns_total\{caller="other",kind="resume",outcome="ok"\} [1-9]/);
    expect(metrics).not.toContain("tok_tester");
  });

  it("/readyz is ready with NATS connected and a CLI login", async () => {
    const res = await fetch(`${svc.url}/readyz`);
    expect(res.status).toBe(200);
  });

  it("a stopped replica leaves none of its CLI processes (warm, prewarmed) behind", async () => {
    // A HOME of its own, so its processes are told apart from the other replicas' of this world.
    const home = await mkdtemp(join(tmpdir(), "cg-conv-home-"));
    const other = await world.start({}, { ...world.cli.env, HOME: home });
    const its = () => processesWithEnv({ HOME: home, CLAUDE_CODE_MAX_RETRIES: "0" });
    world.stub.enqueue(text("Warm now."));
    expect((await turn(other.url, { message: "hello" })).status).toBe(200);
    await eventually(async () => (await its()).length >= 2, {
      what: "the conversation's warm process and a prewarmed one",
    });
    await other.stop();
    expect(await its()).toEqual([]);
    await rm(home, { recursive: true, force: true });
  });
});
