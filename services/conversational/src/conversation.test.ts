import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentFile } from "@claude-gateway/agents";
import {
  ClaudeApiError,
  ClaudeCancelledError,
  parseLine,
  ResultEvent,
  transcriptPath,
} from "@claude-gateway/claude";
import { ModelNotSupportedError } from "@claude-gateway/contracts";
import { type CallerPolicyFile, createPolicyGate } from "@claude-gateway/policy";
import { memoryPlanStore, memoryPolicyCounters, staticPolicy } from "@claude-gateway/policy/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type ConversationDeps,
  createConversationService,
  ShuttingDownError,
  type TurnReport,
} from "./conversation.js";
import { turnSlots } from "./core/slots.js";
import { ConversationNotFoundError } from "./errors.js";
import { inProcessLock } from "./lock.js";
import type { ConversationLock } from "./ports.js";
import { fakeClaude, memoryStore, memoryTranscripts, type ScriptedRun } from "./test-support/memory.js";

const agent = parseAgentFile(
  "agents/conversational.md",
  "---\nname: conversational\ndescription: Voice.\ntools: []\nmodel: claude-haiku-4-5\npermissions:\n  profile: no-tools\n---\nBe brief.\n",
);
const models = { supported: ["claude-haiku-4-5", "claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" };
const CWD = "/srv/conversations";
const ALICE = "tok_alice";
const BOB = "tok_bob";
/** Limits no test here reaches unless it is about them. */
const PERMISSIVE: CallerPolicyFile = {
  defaults: {
    agents: ["conversational"],
    models: models.supported,
    maxConcurrent: 1000,
    requestsPerMinute: 100_000,
    budgetUsdPerDay: 100_000,
  },
};

let configDir: string;
beforeEach(async () => {
  configDir = await mkdtemp(join(tmpdir(), "cv-unit-"));
});
afterEach(async () => {
  await rm(configDir, { recursive: true, force: true });
});

function setup(
  script: (call: number) => ScriptedRun = () => ({ text: "Hello there. How can I help?" }),
  extra: Partial<ConversationDeps> = {},
  policy: CallerPolicyFile = PERMISSIVE,
) {
  const store = memoryStore();
  const transcripts = memoryTranscripts();
  const claude = fakeClaude(configDir, (_, call) => script(call), transcriptPath);
  const reports: TurnReport[] = [];
  const counters = memoryPolicyCounters();
  const gate = createPolicyGate({ policy: staticPolicy(policy), counters });
  let n = 0;
  const service = createConversationService({
    store,
    lock: inProcessLock(),
    transcripts,
    runClaude: claude,
    agent,
    models,
    cwd: CWD,
    claudeConfigDir: configDir,
    claudeEnv: { HOME: "/home/test" },
    timeoutMs: 5000,
    clock: { now: () => new Date("2026-01-01T10:00:00.000Z") },
    mintId: () => `0000000${n++}-0000-4000-8000-000000000000`,
    onTurn: (r) => reports.push(r),
    gate,
    leaseMs: 60_000,
    slots: turnSlots({ max: 100, waitMs: 0, retryAfterSeconds: 2 }),
    ...extra,
  });
  return { service, store, transcripts, claude, reports, gate };
}

const local = (sessionId: string) => transcriptPath(configDir, CWD, sessionId);

describe("a new conversation", () => {
  it("mints ids, runs a new session in the fixed cwd, stores the record and the transcript", async () => {
    const { service, store, transcripts, claude, reports } = setup();
    const reply = await service.turn({ message: "Hi" }, ALICE);
    expect(reply).toMatchObject({
      conversation_id: "00000000-0000-4000-8000-000000000000",
      session_id: "00000001-0000-4000-8000-000000000000",
      reply: "Hello there. How can I help?",
      model: "claude-haiku-4-5",
      usage: {
        inputTokens: 100,
        outputTokens: 20,
        cacheReadInputTokens: 5,
        cacheCreationInputTokens: 0,
        costUsd: 0.002,
      },
    });
    expect(reply.duration_ms).toBeGreaterThanOrEqual(0);
    const call = claude.calls[0]!;
    expect(call.cwd).toBe(CWD);
    expect(call.prompt).toBe("Hi");
    expect(call.invocation.session).toEqual({ kind: "new", id: reply.session_id });
    expect(call.invocation.profile).toEqual({ kind: "no-tools" });
    expect(call.timeoutMs).toBe(5000);
    const record = store.records.get(reply.conversation_id)!;
    expect(record).toMatchObject({
      sessionId: reply.session_id,
      turns: 1,
      createdBy: ALICE,
      model: "claude-haiku-4-5",
    });
    expect(record.transcriptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(transcripts.blobs.get(reply.session_id)?.toString()).toBe(
      await readFile(local(reply.session_id), "utf8"),
    );
    expect(reports).toEqual([
      expect.objectContaining({ caller: ALICE, kind: "new", outcome: "ok", model: "claude-haiku-4-5" }),
    ]);
    expect(reports[0]!.spend).toEqual([
      expect.objectContaining({ model: "claude-haiku-4-5", costUsd: 0.002 }),
    ]);
  });

  it("streams each sentence as it completes, and the rest at the end", async () => {
    const { service, reports } = setup(() => ({
      text: "One, e.g. Dr. Who. Two is 3.5 long! Three",
      chunkSize: 3,
    }));
    const sentences: string[] = [];
    await service.turn({ message: "Hi" }, ALICE, { onSentence: (s) => sentences.push(s) });
    expect(sentences).toEqual(["One, e.g. Dr. Who.", "Two is 3.5 long!", "Three"]);
    expect(reports[0]!.firstSentenceMs).toBeGreaterThanOrEqual(0);
  });

  it("a listener that throws does not break the turn", async () => {
    const { service } = setup();
    const reply = await service.turn({ message: "Hi" }, ALICE, {
      onSentence: () => {
        throw new Error("socket gone");
      },
    });
    expect(reply.reply).toContain("Hello");
  });

  it("the language adds the instruction; the model asked for is used", async () => {
    const { service, claude } = setup();
    await service.turn({ message: "Здравей", language: "bg", model: "claude-sonnet-4-6" }, ALICE);
    expect(claude.calls[0]!.invocation).toMatchObject({ model: "claude-sonnet-4-6" });
    expect(claude.calls[0]!.prompt).toContain("Bulgarian");
    expect(claude.calls[0]!.prompt).toMatch(/Здравей$/);
  });

  it("an unsupported model fails before anything runs", async () => {
    const { service, claude, reports } = setup();
    await expect(service.turn({ message: "Hi", model: "gpt-4" }, ALICE)).rejects.toBeInstanceOf(
      ModelNotSupportedError,
    );
    expect(claude.calls).toHaveLength(0);
    expect(reports[0]).toMatchObject({ outcome: "model_not_supported" });
  });

  it("a CLI failure rejects with the typed error, stores nothing, and still reports its spend", async () => {
    const err = new ClaudeApiError("API Error: 529 Overloaded", 529);
    const { service, store, reports } = setup(() => ({ text: "Partial. ", error: err }));
    await expect(service.turn({ message: "Hi" }, ALICE)).rejects.toBe(err);
    expect(store.records.size).toBe(0);
    expect(reports[0]).toMatchObject({ outcome: "upstream_error", kind: "new" });
  });
});

describe("the next turn", () => {
  it("resumes the stored session under the conversation's lock and counts the turn", async () => {
    const { service, store, claude } = setup((call) => ({ text: `Reply ${call}.` }));
    const first = await service.turn({ message: "One" }, ALICE);
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(second).toMatchObject({
      conversation_id: first.conversation_id,
      session_id: first.session_id,
      reply: "Reply 1.",
    });
    expect(claude.calls[1]!.invocation.session).toEqual({ kind: "resume", id: first.session_id });
    expect(claude.calls[1]!.cwd).toBe(CWD);
    expect(store.records.get(first.conversation_id)).toMatchObject({ turns: 2 });
    // The fake CLI appends to the transcript; both turns are in it.
    expect(await readFile(local(first.session_id), "utf8")).toMatch(/One[\s\S]*Two/);
  });

  it("keeps the conversation's model unless the turn asks for another", async () => {
    const { service, claude } = setup();
    const first = await service.turn({ message: "One", model: "claude-sonnet-4-6" }, ALICE);
    await service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(claude.calls[1]!.invocation.model).toBe("claude-sonnet-4-6");
    await service.turn(
      { conversationId: first.conversation_id, message: "Three", model: "claude-haiku-4-5" },
      ALICE,
    );
    expect(claude.calls[2]!.invocation.model).toBe("claude-haiku-4-5");
  });

  it("another caller's conversation is ConversationNotFoundError: no lock, no admission, nothing runs", async () => {
    const locked: string[] = [];
    const inner = inProcessLock();
    const lock: ConversationLock = {
      acquire: (id, signal) => {
        locked.push(id);
        return inner.acquire(id, signal);
      },
    };
    const { service, claude, reports, gate, store } = setup(undefined, { lock });
    const first = await service.turn({ message: "Mine" }, ALICE);
    const before = store.records.get(first.conversation_id);
    const err = await service
      .turn({ conversationId: first.conversation_id, message: "Let me in" }, BOB)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConversationNotFoundError);
    // The same answer as for an id that exists nowhere: nothing says it is someone else's.
    expect((err as ConversationNotFoundError).detail).toBe(
      `no conversation ${first.conversation_id} of yours`,
    );
    expect(claude.calls).toHaveLength(1);
    expect(locked).toEqual([]);
    expect(store.records.get(first.conversation_id)).toEqual(before);
    expect(reports.at(-1)).toMatchObject({ caller: BOB, outcome: "conversation_not_found" });
    expect(await gate.usage(BOB)).toMatchObject({ requestsThisMinute: 0, inFlight: 0, spentUsdToday: 0 });
  });

  it("a missing local transcript (another pod, a restart) is restored from the store first", async () => {
    const { service, transcripts } = setup();
    const first = await service.turn({ message: "One" }, ALICE);
    await rm(local(first.session_id));
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(second.reply).toContain("Hello");
    expect(transcripts.restores).toEqual([first.session_id]);
  });

  it("a stale local transcript (a later turn ran elsewhere) is replaced by the stored one", async () => {
    const { service, transcripts, store } = setup();
    const first = await service.turn({ message: "One" }, ALICE);
    // Another replica ran turn two: the store and the record have it, this pod's copy does not.
    const newer = `${await readFile(local(first.session_id), "utf8")}{"prompt":"elsewhere"}\n`;
    transcripts.blobs.set(first.session_id, Buffer.from(newer));
    const record = store.records.get(first.conversation_id)!;
    store.records.set(first.conversation_id, {
      ...record,
      turns: 2,
      transcriptSha256: createHash("sha256").update(newer).digest("hex"),
    });
    await service.turn({ conversationId: first.conversation_id, message: "Three" }, ALICE);
    expect(transcripts.restores).toEqual([first.session_id]);
    expect(await readFile(local(first.session_id), "utf8")).toMatch(/elsewhere[\s\S]*Three/);
  });

  it("a current local transcript is used as is (no restore)", async () => {
    const { service, transcripts } = setup();
    const first = await service.turn({ message: "One" }, ALICE);
    await service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(transcripts.restores).toEqual([]);
  });

  it("a failed transcript save still records the turn: this replica goes on with its local copy", async () => {
    const { service, transcripts, store } = setup();
    transcripts.failSave = true;
    const first = await service.turn({ message: "One" }, ALICE);
    expect(store.records.get(first.conversation_id)!.transcriptSha256).toMatch(/^[0-9a-f]{64}$/);
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(second.session_id).toBe(first.session_id);
  });

  it("a failed turn leaves the record as it was and lets the next turn in", async () => {
    const { service, store } = setup((call) =>
      call === 1 ? { error: new ClaudeApiError("API Error: 500", 500) } : { text: "Fine." },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    const before = store.records.get(first.conversation_id);
    await expect(
      service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE),
    ).rejects.toThrow("500");
    expect(store.records.get(first.conversation_id)).toEqual(before);
    const third = await service.turn({ conversationId: first.conversation_id, message: "Three" }, ALICE);
    expect(third.reply).toBe("Fine.");
  });

  it("a turn whose lock another replica took over stops: 503 conversation_taken_over, nothing written", async () => {
    const lost = new AbortController();
    const lock: ConversationLock = {
      acquire: async () => Object.assign(async () => {}, { lost: lost.signal }),
    };
    const { service, store, claude } = setup(
      (call) => (call === 1 ? { text: "never", gate: new Promise(() => {}) } : { text: "One." }),
      { lock },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    const before = store.records.get(first.conversation_id);
    const second = service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    second.catch(() => {});
    await vi.waitFor(() => expect(claude.calls).toHaveLength(2));
    lost.abort(new Error("taken over"));
    await expect(second).rejects.toMatchObject({ status: 503, code: "conversation_taken_over" });
    expect(claude.calls[1]!.signal!.aborted).toBe(true);
    expect(store.records.get(first.conversation_id)).toEqual(before);
  });

  it("a store that is down fails the turn before anything runs", async () => {
    const { service, store, claude } = setup();
    const first = await service.turn({ message: "One" }, ALICE);
    store.fail = true;
    await expect(
      service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE),
    ).rejects.toThrow("store down");
    expect(claude.calls).toHaveLength(1);
  });

  it("two turns of one conversation arriving together run one after the other", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude, store } = setup((call) =>
      call === 1 ? { text: "Second.", gate } : { text: `T${call}.` },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    const a = service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    const b = service.turn({ conversationId: first.conversation_id, message: "Three" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(2));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(claude.calls).toHaveLength(2); // the third waits for the lock
    open();
    await Promise.all([a, b]);
    expect(claude.maxActive).toBe(1);
    expect(claude.calls.map((c) => c.prompt)).toEqual(["One", "Two", "Three"]);
    expect(store.records.get(first.conversation_id)!.turns).toBe(3);
  });
});

describe("caller-minted conversation ids", () => {
  it("an id unknown for this caller starts a conversation under it; the next turn resumes it", async () => {
    const { service, store, claude, reports } = setup((call) => ({ text: `Reply ${call}.` }));
    const first = await service.turn({ conversationId: "call-42", message: "One" }, ALICE);
    expect(first).toMatchObject({
      conversation_id: "call-42",
      session_id: "00000000-0000-4000-8000-000000000000",
    });
    expect(claude.calls[0]!.invocation.session).toEqual({ kind: "new", id: first.session_id });
    expect(store.records.get("call-42")).toMatchObject({ createdBy: ALICE, turns: 1 });
    expect(reports[0]).toMatchObject({ kind: "new", outcome: "ok" });
    const second = await service.turn({ conversationId: "call-42", message: "Two" }, ALICE);
    expect(second).toMatchObject({
      conversation_id: "call-42",
      session_id: first.session_id,
      reply: "Reply 1.",
    });
    expect(claude.calls[1]!.invocation.session).toEqual({ kind: "resume", id: first.session_id });
    expect(reports[1]).toMatchObject({ kind: "resume" });
  });

  it("another caller's minted id stays a 404 for this one", async () => {
    const { service, claude } = setup();
    await service.turn({ conversationId: "call-42", message: "One" }, ALICE);
    await expect(service.turn({ conversationId: "call-42", message: "Mine?" }, BOB)).rejects.toBeInstanceOf(
      ConversationNotFoundError,
    );
    expect(claude.calls).toHaveLength(1);
  });

  it("two first turns under one new id: one starts it, the other continues it (both under the lock)", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude, store } = setup((call) =>
      call === 0 ? { text: "First.", gate } : { text: "Next." },
    );
    const a = service.turn({ conversationId: "call-7", message: "A" }, ALICE);
    const b = service.turn({ conversationId: "call-7", message: "B" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    open();
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb.session_id).toBe(ra.session_id);
    expect(claude.calls.map((c) => c.invocation.session.kind)).toEqual(["new", "resume"]);
    expect(store.records.get("call-7")).toMatchObject({ createdBy: ALICE, turns: 2 });
  });

  it("two callers minting one id at once: the first holds it, the second gets a 404", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude, store } = setup((call) =>
      call === 0 ? { text: "First.", gate } : { text: "x" },
    );
    const a = service.turn({ conversationId: "same", message: "A" }, ALICE);
    const b = service.turn({ conversationId: "same", message: "B" }, BOB);
    b.catch(() => {});
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    open();
    await expect(a).resolves.toMatchObject({ conversation_id: "same" });
    await expect(b).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(claude.calls).toHaveLength(1);
    expect(store.records.get("same")).toMatchObject({ createdBy: ALICE, turns: 1 });
  });
});

describe("the caller policy", () => {
  it("admits the turn for agent conversational and the model that runs, then gives its lease back", async () => {
    const gate = createPolicyGate({ policy: staticPolicy(PERMISSIVE), counters: memoryPolicyCounters() });
    const admits: unknown[] = [];
    const watching: ConversationDeps["gate"] = {
      admit: (principal, request) => {
        admits.push({ principal, ...request });
        return gate.admit(principal, request);
      },
      recordSpend: (principal, usd) => gate.recordSpend(principal, usd),
    };
    const { service: watched, claude } = setup(undefined, { gate: watching });
    const first = await watched.turn({ message: "One", model: "claude-sonnet-4-6" }, ALICE);
    // The next turn keeps the conversation's model: that is the one admitted.
    await watched.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    expect(admits).toEqual([
      { principal: ALICE, agent: "conversational", model: "claude-sonnet-4-6", leaseMs: 60_000 },
      { principal: ALICE, agent: "conversational", model: "claude-sonnet-4-6", leaseMs: 60_000 },
    ]);
    expect(claude.calls.map((c) => c.invocation.model)).toEqual(["claude-sonnet-4-6", "claude-sonnet-4-6"]);
    expect(await gate.usage(ALICE)).toMatchObject({ inFlight: 0 });
  });

  it("a model outside the caller's policy is a 403 listing what is allowed; nothing runs", async () => {
    const { service, claude, reports } = setup(
      undefined,
      {},
      {
        defaults: { ...PERMISSIVE.defaults, models: ["claude-haiku-4-5"] },
      },
    );
    const err = await service
      .turn({ message: "Hi", model: "claude-sonnet-4-6" }, ALICE)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: "model_not_allowed" });
    expect((err as Error).message).toContain("claude-haiku-4-5");
    expect(claude.calls).toHaveLength(0);
    expect(reports[0]).toMatchObject({ outcome: "model_not_allowed" });
  });

  it("a caller without the conversational agent is a 403 agent_not_allowed", async () => {
    const { service, claude } = setup(
      undefined,
      {},
      { defaults: { ...PERMISSIVE.defaults, agents: ["assistant"] } },
    );
    await expect(service.turn({ message: "Hi" }, ALICE)).rejects.toMatchObject({
      status: 403,
      code: "agent_not_allowed",
    });
    expect(claude.calls).toHaveLength(0);
  });

  it("records every turn's spend, failed ones too, and caps --max-budget-usd at what is left today", async () => {
    const failed = new ClaudeApiError("API Error: 500", 500);
    failed.result = resultEvent({ cost: 0.25, subtype: "error_during_execution" });
    const { service, claude, gate } = setup(
      (call) => (call === 1 ? { error: failed } : { text: "Fine.", costUsd: 0.5 }),
      {},
      { defaults: { ...PERMISSIVE.defaults, budgetUsdPerDay: 2 } },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    expect(claude.calls[0]!.invocation.maxBudgetUsd).toBe(2);
    await expect(service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE)).rejects.toBe(
      failed,
    );
    expect(claude.calls[1]!.invocation.maxBudgetUsd).toBe(1.5);
    await service.turn({ conversationId: first.conversation_id, message: "Three" }, ALICE);
    expect(claude.calls[2]!.invocation.maxBudgetUsd).toBe(1.25);
    expect(await gate.usage(ALICE)).toMatchObject({ spentUsdToday: 1.25, inFlight: 0 });
  });

  it("budget below one turn's cost: the first turn runs, the second is a 429 daily_budget_exceeded", async () => {
    const { service, claude } = setup(
      () => ({ text: "Costly.", costUsd: 0.002 }),
      {},
      {
        defaults: { ...PERMISSIVE.defaults, budgetUsdPerDay: 0.001 },
      },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    expect(claude.calls[0]!.invocation.maxBudgetUsd).toBe(0.001);
    const err = await service
      .turn({ conversationId: first.conversation_id, message: "Two" }, ALICE)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: "daily_budget_exceeded" });
    expect((err as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(claude.calls).toHaveLength(1);
    // Another caller's budget is its own.
    await expect(service.turn({ message: "Hi" }, BOB)).resolves.toMatchObject({ reply: "Costly." });
  });

  it("over the in-flight limit: 429 too_many_in_flight while one runs, admitted again once it ends", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude } = setup(
      (call) => (call === 0 ? { text: "Slow.", gate } : { text: "Quick." }),
      {},
      {
        defaults: { ...PERMISSIVE.defaults, maxConcurrent: 1 },
      },
    );
    const slow = service.turn({ message: "One" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    await expect(service.turn({ message: "Two" }, ALICE)).rejects.toMatchObject({
      status: 429,
      code: "too_many_in_flight",
    });
    await expect(service.turn({ message: "Other caller" }, BOB)).resolves.toMatchObject({ reply: "Quick." });
    open();
    await slow;
    await expect(service.turn({ message: "Three" }, ALICE)).resolves.toMatchObject({ reply: "Quick." });
  });

  it("over the rate: 429 rate_limited with the seconds to the next minute", async () => {
    const { service } = setup(undefined, {}, { defaults: { ...PERMISSIVE.defaults, requestsPerMinute: 2 } });
    await service.turn({ message: "One" }, ALICE);
    await service.turn({ message: "Two" }, ALICE);
    const err = await service.turn({ message: "Three" }, ALICE).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: "rate_limited" });
    expect((err as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});

describe("the replica's turn slots", () => {
  it("a turn over the cap waits in line and runs when a slot frees; the lease is held meanwhile", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const slots = turnSlots({ max: 1, waitMs: 60_000, retryAfterSeconds: 2 });
    const {
      service,
      claude,
      gate: policy,
    } = setup((call) => (call === 0 ? { text: "Slow.", gate } : { text: "Next." }), {
      slots,
    });
    const first = service.turn({ message: "One" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    const second = service.turn({ message: "Two" }, BOB);
    await vi.waitFor(() => expect(slots.waiting).toBe(1));
    expect(claude.calls).toHaveLength(1);
    expect(await policy.usage(BOB)).toMatchObject({ inFlight: 1 });
    open();
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(claude.maxActive).toBe(1);
    expect(slots.running).toBe(0);
    expect(await policy.usage(BOB)).toMatchObject({ inFlight: 0 });
  });

  it("no slot within the wait: 429 too_many_turns with Retry-After; nothing runs, the lease is given back", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const {
      service,
      claude,
      reports,
      gate: policy,
    } = setup((call) => (call === 0 ? { text: "Slow.", gate } : { text: "x" }), {
      slots: turnSlots({ max: 1, waitMs: 0, retryAfterSeconds: 2 }),
    });
    const first = service.turn({ message: "One" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    const err = await service
      .turn({ conversationId: "call-1", message: "Two" }, BOB)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: "too_many_turns", retryAfterSeconds: 2 });
    expect(claude.calls).toHaveLength(1);
    expect(reports.at(-1)).toMatchObject({ caller: BOB, outcome: "too_many_turns" });
    expect(await policy.usage(BOB)).toMatchObject({ inFlight: 0 });
    open();
    await first;
    // The refused turn claimed nothing: its id is free to start.
    await expect(service.turn({ conversationId: "call-1", message: "Again" }, BOB)).resolves.toMatchObject({
      conversation_id: "call-1",
    });
  });
});

describe("a turn whose reply took the caller past its daily budget", () => {
  // The runner keeps a reply finished by the message that passed `--max-budget-usd` (packages/claude);
  // the turn then answers, counts the spend, and the next turn meets the daily budget.
  it("answers, records the spend, and the caller's next turn is a 429 daily_budget_exceeded", async () => {
    const { service, store, gate } = setup(
      () => ({ text: "All of it. Really.", costUsd: 0.002 }),
      {},
      {
        defaults: { ...PERMISSIVE.defaults, budgetUsdPerDay: 0.001 },
      },
    );
    const sentences: string[] = [];
    const reply = await service.turn({ message: "Hi" }, ALICE, { onSentence: (s) => sentences.push(s) });
    expect(reply).toMatchObject({ reply: "All of it. Really.", usage: { costUsd: 0.002 } });
    expect(sentences).toEqual(["All of it.", "Really."]);
    expect(store.records.get(reply.conversation_id)).toMatchObject({ createdBy: ALICE, turns: 1 });
    expect(await gate.usage(ALICE)).toMatchObject({ spentUsdToday: 0.002 });
    await expect(service.turn({ message: "More" }, ALICE)).rejects.toMatchObject({
      status: 429,
      code: "daily_budget_exceeded",
    });
  });
});

describe("shutdown", () => {
  it("refuses new turns and waits for running ones", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude } = setup(() => ({ text: "Done.", gate }));
    const running = service.turn({ message: "One" }, ALICE);
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    expect(service.active).toBe(1);
    const stopped = service.shutdown(10_000);
    await expect(service.turn({ message: "Late" }, ALICE)).rejects.toBeInstanceOf(ShuttingDownError);
    open();
    await stopped;
    await expect(running).resolves.toMatchObject({ reply: "Done." });
    expect(service.active).toBe(0);
  });

  it("cancels what is still running after the grace", async () => {
    const { service, claude } = setup(() => ({ text: "never", gate: new Promise(() => {}) }));
    const running = service.turn({ message: "One" }, ALICE);
    running.catch(() => {});
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    await service.shutdown(20);
    const signal = claude.calls[0]!.signal!;
    expect(signal.reason).toBeInstanceOf(ShuttingDownError);
    await expect(running).rejects.toBeInstanceOf(ClaudeCancelledError);
    expect(service.active).toBe(0);
  });

  it("a turn waiting for its conversation's lock is cancelled too", async () => {
    const { service, claude } = setup((call) =>
      call === 1 ? { text: "x", gate: new Promise(() => {}) } : { text: "One." },
    );
    const first = await service.turn({ message: "One" }, ALICE);
    const holding = service.turn({ conversationId: first.conversation_id, message: "Two" }, ALICE);
    const waiting = service.turn({ conversationId: first.conversation_id, message: "Three" }, ALICE);
    holding.catch(() => {});
    waiting.catch(() => {});
    await vi.waitFor(() => expect(claude.calls).toHaveLength(2));
    await service.shutdown(20);
    await expect(waiting).rejects.toBeInstanceOf(ShuttingDownError);
  });
});

/** A CLI result line, as a failed run carries it. */
function resultEvent(opts: { cost: number; subtype: string; stopReason?: string }): ResultEvent {
  return ResultEvent.parse({
    type: "result",
    subtype: opts.subtype,
    is_error: true,
    session_id: "44444444-4444-4444-8444-444444444444",
    total_cost_usd: opts.cost,
    ...(opts.stopReason ? { stop_reason: opts.stopReason } : {}),
    usage: { input_tokens: 10, output_tokens: 2 },
  });
}

describe("the plan's utilisation", () => {
  const NOW_S = Date.parse("2026-01-01T10:00:00.000Z") / 1000;
  const rateLimitLine = (status: string, resetsAt: number) =>
    parseLine(
      JSON.stringify({
        type: "rate_limit_event",
        session_id: "s",
        rate_limit_info: {
          status,
          resetsAt,
          rateLimitType: "five_hour",
          isUsingOverage: false,
          unifiedWindows: { five_hour: { utilization: status === "rejected" ? 1 : 0.5, resetsAt, status } },
        },
      }),
    )!;

  it("what a turn's CLI reports goes to the plan's record", async () => {
    const plan = memoryPlanStore();
    const { service } = setup(() => ({ text: "Hi.", lines: [rateLimitLine("allowed", NOW_S + 3600)] }), {
      plan,
    });
    await service.turn({ message: "Hi" }, ALICE);
    await service.shutdown(1_000);
    expect(await plan.current()).toMatchObject({
      status: "allowed",
      windows: { five_hour: { utilization: 0.5 } },
      observedAt: "2026-01-01T10:00:00.000Z",
    });
  });

  it("once a turn hit the limit, the next is refused with 429 until the reset, no CLI started", async () => {
    const plan = memoryPlanStore();
    const limited = new ClaudeApiError("You've hit your 5-hour limit", 429);
    const { service, claude } = setup(
      () => ({ error: limited, lines: [rateLimitLine("rejected", NOW_S + 3600)] }),
      {
        plan,
      },
    );
    // The gate reads the same record (another replica would through NATS).
    const gate = createPolicyGate({
      policy: staticPolicy(PERMISSIVE),
      counters: memoryPolicyCounters(),
      plan,
      now: () => new Date(NOW_S * 1000),
    });
    const again = setup(() => ({ text: "never" }), { plan, gate });
    await expect(service.turn({ message: "Hi" }, ALICE)).rejects.toBe(limited);
    await service.shutdown(1_000);
    await expect(again.service.turn({ message: "Hi" }, ALICE)).rejects.toMatchObject({
      status: 429,
      code: "plan_limit_reached",
      retryAfterSeconds: 3600,
    });
    expect(claude.calls).toHaveLength(1);
    expect(again.claude.calls).toHaveLength(0);
  });
});
