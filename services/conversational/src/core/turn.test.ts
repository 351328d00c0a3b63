import { parseAgentFile } from "@claude-gateway/agents";
import { buildArgv, type Invocation } from "@claude-gateway/claude";
import { ConversationalRequest, ModelNotSupportedError } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { UnsafeAgentError } from "../errors.js";
import type { ConversationRecord } from "./record.js";
import { checkAgent, chooseModel, fromWire, languageInstruction, planTurn, requireNoTools } from "./turn.js";

const agent = parseAgentFile(
  "agents/conversational.md",
  "---\nname: conversational\ndescription: Voice.\ntools: []\nmodel: claude-haiku-4-5\npermissions:\n  profile: no-tools\n---\nBe brief.\n",
);
const toolsAgent = parseAgentFile(
  "agents/conversational.md",
  "---\nname: conversational\ndescription: Voice.\ntools: [Bash]\npermissions:\n  profile: tools\n  skipPermissions: true\n---\nBe brief.\n",
);
const models = { supported: ["claude-haiku-4-5", "claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" };
const ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
const minter = () => {
  let i = 0;
  return () => ids[i++]!;
};
const stored: ConversationRecord = {
  conversationId: "conv-1",
  sessionId: "33333333-3333-4333-8333-333333333333",
  model: "claude-sonnet-4-6",
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  turns: 1,
};
const argv = (inv: Invocation) => buildArgv(inv, { bin: "claude" }).args;
/** A flag and its value. */
const flag = (args: string[], name: string) => args.slice(args.indexOf(name), args.indexOf(name) + 2);

describe("planTurn", () => {
  it("no conversation: a new one with minted conversation and session ids, `--session-id`", () => {
    const plan = planTurn({ request: { message: "Hi" }, stored: null, agent, models, mintId: minter() });
    expect(plan).toMatchObject({
      conversationId: ids[0],
      sessionId: ids[1],
      kind: "new",
      model: "claude-haiku-4-5",
      prompt: "Hi",
    });
    expect(plan.invocation.session).toEqual({ kind: "new", id: ids[1] });
    const args = argv(plan.invocation);
    expect(flag(args, "--session-id")).toEqual(["--session-id", ids[1]]);
    expect(args).not.toContain("--resume");
  });

  it("a stored conversation: `--resume` of its session, no new ids", () => {
    const mint = () => {
      throw new Error("must not mint");
    };
    const plan = planTurn({
      request: { conversationId: "conv-1", message: "Again" },
      stored,
      agent,
      models,
      mintId: mint,
    });
    expect(plan).toMatchObject({ conversationId: "conv-1", sessionId: stored.sessionId, kind: "resume" });
    expect(plan.invocation.session).toEqual({ kind: "resume", id: stored.sessionId });
    const args = argv(plan.invocation);
    expect(flag(args, "--resume")).toEqual(["--resume", stored.sessionId]);
    expect(args).not.toContain("--session-id");
    expect(args).not.toContain("--fork-session");
  });

  it("an id that is not stored (minted by the caller): a new conversation under that id, a new session", () => {
    const plan = planTurn({
      request: { conversationId: "voice-call-42", message: "x" },
      stored: null,
      agent,
      models,
      mintId: minter(),
    });
    expect(plan).toMatchObject({ conversationId: "voice-call-42", sessionId: ids[0], kind: "new" });
    expect(flag(argv(plan.invocation), "--session-id")).toEqual(["--session-id", ids[0]]);
  });

  it.each([
    ["new", null],
    ["resume", stored],
  ] as const)(
    '%s: the no-tools profile: `--tools ""`, never the skip flag, no settings or MCP servers from the cwd or HOME, streamed partial messages',
    (_, s) => {
      const plan = planTurn({
        request: { ...(s ? { conversationId: "conv-1" } : {}), message: "Hi" },
        stored: s,
        agent,
        models,
        mintId: minter(),
      });
      expect(plan.invocation.profile).toEqual({ kind: "no-tools" });
      const args = argv(plan.invocation);
      const tools = args.indexOf("--tools");
      expect(tools).toBeGreaterThan(0);
      expect(args[tools + 1]).toBe("");
      expect(args).not.toContain("--dangerously-skip-permissions");
      expect(args).not.toContain("--allowedTools");
      expect(args.join(" ")).not.toMatch(/bypassPermissions/);
      expect(flag(args, "--setting-sources")).toEqual(["--setting-sources", ""]);
      expect(args).toContain("--strict-mcp-config");
      expect(args).toEqual(
        expect.arrayContaining(["--output-format", "stream-json", "--verbose", "--include-partial-messages"]),
      );
      expect(args[args.indexOf("--agent") + 1]).toBe("conversational");
      // The message goes to stdin, never argv.
      expect(args).not.toContain("Hi");
    },
  );

  it("a language travels with the message as a tagged note; the invocation is the same for every language", () => {
    const plan = (language?: "bg" | "en") =>
      planTurn({
        request: { message: "Здравей", ...(language ? { language } : {}) },
        stored: null,
        agent,
        models,
        mintId: minter(),
      });
    const bg = plan("bg");
    expect(bg.prompt).toBe(
      `<speech-recognition language="bg">${languageInstruction("bg")}</speech-recognition>\n\nЗдравей`,
    );
    expect(languageInstruction("bg")).toMatch(/Bulgarian.*Cyrillic/);
    expect(languageInstruction("en")).toMatch(/reply in English/);
    expect(plan("en").prompt).toContain(languageInstruction("en"));
    const none = plan();
    expect(none.prompt).toBe("Здравей");
    // A warm process, started once, serves every turn whatever its language.
    expect(argv(bg.invocation)).toEqual(argv(none.invocation));
    expect(argv(bg.invocation)).not.toContain("--append-system-prompt");
  });

  it("a new conversation served by a prewarmed process takes that process's session", () => {
    const p = planTurn({
      request: { message: "Hi" },
      stored: null,
      agent,
      models,
      mintId: minter(),
      pooledSessionId: "0b3c4f4e-9a59-4c51-8a43-2f1c8d2f7a10",
    });
    expect(p.sessionId).toBe("0b3c4f4e-9a59-4c51-8a43-2f1c8d2f7a10");
    expect(argv(p.invocation)).toContain("0b3c4f4e-9a59-4c51-8a43-2f1c8d2f7a10");
  });

  it("an agent with tools is refused before any argv is built", () => {
    expect(() =>
      planTurn({ request: { message: "Hi" }, stored: null, agent: toolsAgent, models, mintId: minter() }),
    ).toThrow(UnsafeAgentError);
    expect(() => checkAgent(toolsAgent)).toThrow(/no-tools/);
    expect(() => checkAgent(agent)).not.toThrow();
  });

  it("requireNoTools refuses a tools profile and a no-tools profile that still lists tools", () => {
    const base = { session: { kind: "ephemeral" }, output: "json" } as const;
    expect(() => requireNoTools({ ...base, profile: { kind: "tools" } })).toThrow(UnsafeAgentError);
    const sneaky = { ...base, profile: { kind: "no-tools" }, tools: ["Bash"] } as unknown as Invocation;
    expect(() => requireNoTools(sneaky)).toThrow(UnsafeAgentError);
    expect(requireNoTools({ ...base, profile: { kind: "no-tools" }, tools: [] }).profile.kind).toBe(
      "no-tools",
    );
  });

  it("a stored conversation whose id differs from the request is a bug, not a 404", () => {
    expect(() =>
      planTurn({
        request: { conversationId: "other", message: "x" },
        stored,
        agent,
        models,
        mintId: minter(),
      }),
    ).toThrow(/does not match/);
  });
});

describe("chooseModel", () => {
  it.each([
    ["asked for, allowed", "claude-sonnet-4-6", "claude-haiku-4-5", "claude-haiku-4-5", "claude-sonnet-4-6"],
    [
      "none asked: the conversation's",
      undefined,
      "claude-sonnet-4-6",
      "claude-haiku-4-5",
      "claude-sonnet-4-6",
    ],
    ["none asked, new: the agent's", undefined, undefined, "claude-haiku-4-5", "claude-haiku-4-5"],
    [
      "the conversation's no longer allowed: the agent's",
      undefined,
      "claude-opus-4-7",
      "claude-haiku-4-5",
      "claude-haiku-4-5",
    ],
    ["neither allowed: the default", undefined, "claude-opus-4-7", "claude-fable-5", "claude-sonnet-4-6"],
    ["nothing at all: the default", undefined, undefined, undefined, "claude-sonnet-4-6"],
  ])("%s", (_, requested, conversation, agentModel, expected) => {
    expect(chooseModel(models, requested, conversation, agentModel)).toBe(expected);
  });

  it("a model asked for and not allowed is ModelNotSupportedError listing the allowed ids", () => {
    expect(() => chooseModel(models, "gpt-4", undefined, undefined)).toThrow(ModelNotSupportedError);
    expect(() => chooseModel(models, "gpt-4", undefined, undefined)).toThrow(
      /claude-haiku-4-5, claude-sonnet-4-6/,
    );
  });
});

describe("fromWire", () => {
  it("maps the wire names and leaves absent fields out", () => {
    expect(fromWire({ message: "hi" })).toEqual({ message: "hi" });
    expect(
      fromWire({ conversation_id: "c", message: "hi", language: "bg", model: "m", stream: true }),
    ).toEqual({ conversationId: "c", message: "hi", language: "bg", model: "m" });
  });

  it("leaves the NATS caller to the edge", () => {
    expect(fromWire({ message: "hi", caller: "nats_voice" })).toEqual({ message: "hi" });
  });

  it.each([
    ["bg", "bg"],
    ["bg-BG", "bg"],
    ["BG-bg", "bg"],
    ["en", "en"],
    ["en-US", "en"],
    ["en-gb", "en"],
    ["EN", "en"],
    ["en-001", "en"],
  ])("language tag %s ⇒ %s", (tag, language) => {
    const wire = ConversationalRequest.parse({ message: "hi", language: tag });
    expect(fromWire(wire).language).toBe(language);
  });

  it.each(["fr", "de-DE", "english", "bg_BG", "en-", "en-Latn-US", "bgr", "", "en-US-x"])(
    "language tag %j is refused, naming what is accepted",
    (tag) => {
      const parsed = ConversationalRequest.safeParse({ message: "hi", language: tag });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/accepted: bg or en.*bg-BG, en-US, en-GB/);
    },
  );
});
