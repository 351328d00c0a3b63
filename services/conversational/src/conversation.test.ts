import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentFile } from "@claude-gateway/agents";
import { ClaudeApiError, ClaudeCancelledError, transcriptPath } from "@claude-gateway/claude";
import { ModelNotSupportedError } from "@claude-gateway/contracts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type ConversationDeps,
  createConversationService,
  ShuttingDownError,
  type TurnReport,
} from "./conversation.js";
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
) {
  const store = memoryStore();
  const transcripts = memoryTranscripts();
  const claude = fakeClaude(configDir, (_, call) => script(call), transcriptPath);
  const reports: TurnReport[] = [];
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
    ...extra,
  });
  return { service, store, transcripts, claude, reports };
}

const local = (sessionId: string) => transcriptPath(configDir, CWD, sessionId);

describe("a new conversation", () => {
  it("mints ids, runs a new session in the fixed cwd, stores the record and the transcript", async () => {
    const { service, store, transcripts, claude, reports } = setup();
    const reply = await service.turn({ message: "Hi" }, "alice");
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
      createdBy: "alice",
      model: "claude-haiku-4-5",
    });
    expect(record.transcriptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(transcripts.blobs.get(reply.session_id)?.toString()).toBe(
      await readFile(local(reply.session_id), "utf8"),
    );
    expect(reports).toEqual([
      expect.objectContaining({ caller: "alice", kind: "new", outcome: "ok", model: "claude-haiku-4-5" }),
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
    await service.turn({ message: "Hi" }, "alice", { onSentence: (s) => sentences.push(s) });
    expect(sentences).toEqual(["One, e.g. Dr. Who.", "Two is 3.5 long!", "Three"]);
    expect(reports[0]!.firstSentenceMs).toBeGreaterThanOrEqual(0);
  });

  it("a listener that throws does not break the turn", async () => {
    const { service } = setup();
    const reply = await service.turn({ message: "Hi" }, "alice", {
      onSentence: () => {
        throw new Error("socket gone");
      },
    });
    expect(reply.reply).toContain("Hello");
  });

  it("the language adds the instruction; the model asked for is used", async () => {
    const { service, claude } = setup();
    await service.turn({ message: "Здравей", language: "bg", model: "claude-sonnet-4-6" }, "alice");
    expect(claude.calls[0]!.invocation).toMatchObject({
      model: "claude-sonnet-4-6",
      appendSystemPrompt: expect.stringContaining("Bulgarian"),
    });
  });

  it("an unsupported model fails before anything runs", async () => {
    const { service, claude, reports } = setup();
    await expect(service.turn({ message: "Hi", model: "gpt-4" }, "alice")).rejects.toBeInstanceOf(
      ModelNotSupportedError,
    );
    expect(claude.calls).toHaveLength(0);
    expect(reports[0]).toMatchObject({ outcome: "model_not_supported" });
  });

  it("a CLI failure rejects with the typed error, stores nothing, and still reports its spend", async () => {
    const err = new ClaudeApiError("API Error: 529 Overloaded", 529);
    const { service, store, reports } = setup(() => ({ text: "Partial. ", error: err }));
    await expect(service.turn({ message: "Hi" }, "alice")).rejects.toBe(err);
    expect(store.records.size).toBe(0);
    expect(reports[0]).toMatchObject({ outcome: "upstream_error", kind: "new" });
  });
});

describe("the next turn", () => {
  it("resumes the stored session under the conversation's lock and counts the turn", async () => {
    const { service, store, claude } = setup((call) => ({ text: `Reply ${call}.` }));
    const first = await service.turn({ message: "One" }, "alice");
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
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
    const first = await service.turn({ message: "One", model: "claude-sonnet-4-6" }, "alice");
    await service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    expect(claude.calls[1]!.invocation.model).toBe("claude-sonnet-4-6");
    await service.turn(
      { conversationId: first.conversation_id, message: "Three", model: "claude-haiku-4-5" },
      "alice",
    );
    expect(claude.calls[2]!.invocation.model).toBe("claude-haiku-4-5");
  });

  it("an unknown conversation is ConversationNotFoundError, without taking the lock or running", async () => {
    const lock: ConversationLock = {
      acquire: () => {
        throw new Error("must not lock");
      },
    };
    const { service, claude, reports } = setup(undefined, { lock });
    await expect(service.turn({ conversationId: "nope", message: "x" }, "alice")).rejects.toBeInstanceOf(
      ConversationNotFoundError,
    );
    expect(claude.calls).toHaveLength(0);
    expect(reports[0]).toMatchObject({ outcome: "conversation_not_found" });
  });

  it("a missing local transcript (another pod, a restart) is restored from the store first", async () => {
    const { service, transcripts } = setup();
    const first = await service.turn({ message: "One" }, "alice");
    await rm(local(first.session_id));
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    expect(second.reply).toContain("Hello");
    expect(transcripts.restores).toEqual([first.session_id]);
  });

  it("a stale local transcript (a later turn ran elsewhere) is replaced by the stored one", async () => {
    const { service, transcripts, store } = setup();
    const first = await service.turn({ message: "One" }, "alice");
    // Another replica ran turn two: the store and the record have it, this pod's copy does not.
    const newer = `${await readFile(local(first.session_id), "utf8")}{"prompt":"elsewhere"}\n`;
    transcripts.blobs.set(first.session_id, Buffer.from(newer));
    const record = store.records.get(first.conversation_id)!;
    store.records.set(first.conversation_id, {
      ...record,
      turns: 2,
      transcriptSha256: createHash("sha256").update(newer).digest("hex"),
    });
    await service.turn({ conversationId: first.conversation_id, message: "Three" }, "alice");
    expect(transcripts.restores).toEqual([first.session_id]);
    expect(await readFile(local(first.session_id), "utf8")).toMatch(/elsewhere[\s\S]*Three/);
  });

  it("a current local transcript is used as is (no restore)", async () => {
    const { service, transcripts } = setup();
    const first = await service.turn({ message: "One" }, "alice");
    await service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    expect(transcripts.restores).toEqual([]);
  });

  it("a failed transcript save still records the turn: this replica goes on with its local copy", async () => {
    const { service, transcripts, store } = setup();
    transcripts.failSave = true;
    const first = await service.turn({ message: "One" }, "alice");
    expect(store.records.get(first.conversation_id)!.transcriptSha256).toMatch(/^[0-9a-f]{64}$/);
    const second = await service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    expect(second.session_id).toBe(first.session_id);
  });

  it("a failed turn leaves the record as it was and lets the next turn in", async () => {
    const { service, store } = setup((call) =>
      call === 1 ? { error: new ClaudeApiError("API Error: 500", 500) } : { text: "Fine." },
    );
    const first = await service.turn({ message: "One" }, "alice");
    const before = store.records.get(first.conversation_id);
    await expect(
      service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice"),
    ).rejects.toThrow("500");
    expect(store.records.get(first.conversation_id)).toEqual(before);
    const third = await service.turn({ conversationId: first.conversation_id, message: "Three" }, "alice");
    expect(third.reply).toBe("Fine.");
  });

  it("a store that is down fails the turn before anything runs", async () => {
    const { service, store, claude } = setup();
    const first = await service.turn({ message: "One" }, "alice");
    store.fail = true;
    await expect(
      service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice"),
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
    const first = await service.turn({ message: "One" }, "alice");
    const a = service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    const b = service.turn({ conversationId: first.conversation_id, message: "Three" }, "alice");
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

describe("shutdown", () => {
  it("refuses new turns and waits for running ones", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { service, claude } = setup(() => ({ text: "Done.", gate }));
    const running = service.turn({ message: "One" }, "alice");
    await vi.waitFor(() => expect(claude.calls).toHaveLength(1));
    expect(service.active).toBe(1);
    const stopped = service.shutdown(10_000);
    await expect(service.turn({ message: "Late" }, "alice")).rejects.toBeInstanceOf(ShuttingDownError);
    open();
    await stopped;
    await expect(running).resolves.toMatchObject({ reply: "Done." });
    expect(service.active).toBe(0);
  });

  it("cancels what is still running after the grace", async () => {
    const { service, claude } = setup(() => ({ text: "never", gate: new Promise(() => {}) }));
    const running = service.turn({ message: "One" }, "alice");
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
    const first = await service.turn({ message: "One" }, "alice");
    const holding = service.turn({ conversationId: first.conversation_id, message: "Two" }, "alice");
    const waiting = service.turn({ conversationId: first.conversation_id, message: "Three" }, "alice");
    holding.catch(() => {});
    waiting.catch(() => {});
    await vi.waitFor(() => expect(claude.calls).toHaveLength(2));
    await service.shutdown(20);
    await expect(waiting).rejects.toBeInstanceOf(ShuttingDownError);
  });
});
