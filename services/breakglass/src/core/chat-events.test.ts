import { readFileSync } from "node:fs";
import { type ParsedLine, parseLine } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { createChatTranslator, MAX_TOOL_OUTPUT_CHARS } from "./chat-events.js";
import { applyEvent, assistantEntry, entryText, entryTools } from "./history.js";
import type { ChatEvent } from "./wire.js";

/** Real stream-json recorded from CLI 2.1.197 running the breakglass agent on the Messages stub. */
const fixture = (name: string): ParsedLine[] =>
  readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8")
    .split("\n")
    .flatMap((l) => {
      const p = parseLine(l);
      return p ? [p] : [];
    });

const translateAll = (lines: ParsedLine[]) => {
  const t = createChatTranslator();
  return lines.flatMap((l) => t(l));
};
const line = (v: unknown) => parseLine(JSON.stringify(v))!;
/** The user line the CLI writes with what the tools returned. */
const toolResults = (...content: object[]) =>
  line({ type: "user", session_id: "s", message: { role: "user", content } });
const texts = (...parts: string[]) => parts.map((text) => ({ type: "text", text }));

describe("stream-json → chat events, on real CLI output", () => {
  it("a turn with a tool call: text deltas, the call, its result with the tool's name, more text, the result", () => {
    const lines = fixture("turn-tool-call.jsonl");
    expect(lines.some((l) => l.type === "malformed" || l.type === "unknown")).toBe(false);
    expect(translateAll(lines)).toEqual<ChatEvent[]>([
      { type: "text", delta: "Checking the VM." },
      {
        type: "tool",
        phase: "call",
        id: "toolu_stubd3d12417468645e4",
        name: "Bash",
        input: { command: "ssh devvm uptime", description: "Check the VM" },
      },
      {
        type: "tool",
        phase: "result",
        id: "toolu_stubd3d12417468645e4",
        name: "Bash",
        output: " 10:00:00 up 3 days,  1 user,  load average: 0.00, 0.01, 0.05",
        isError: false,
        truncated: false,
      },
      { type: "text", delta: "The VM is up: 3 days." },
      {
        type: "result",
        isError: false,
        costUsd: 0.00224,
        durationMs: 204,
        numTurns: 2,
        inputTokens: 323,
        outputTokens: 25,
        permissionDenials: [],
      },
    ]);
  });

  it("a denied command: an error result for the call and the denial in the result", () => {
    const events = translateAll(fixture("turn-denied.jsonl"));
    const types = events.map((e) => (e.type === "tool" ? `tool:${e.phase}` : e.type));
    expect(types).toEqual(["tool:call", "tool:result", "text", "result"]);
    const result = events[1] as Extract<ChatEvent, { type: "tool"; phase: "result" }>;
    expect(result).toMatchObject({ name: "Bash", isError: true });
    expect(result.output).toMatch(/^Permission to use Bash has been denied/);
    expect(events[3]).toMatchObject({
      type: "result",
      permissionDenials: [{ tool: "Bash", input: { command: "rm -rf /tmp/nope" } }],
    });
  });

  it("history folds the same events into one assistant entry", () => {
    const entry = assistantEntry("2026-01-01T00:00:00.000Z");
    for (const ev of translateAll(fixture("turn-tool-call.jsonl"))) applyEvent(entry, ev);
    applyEvent(entry, { type: "done" });
    expect(entry).toMatchObject({ costUsd: 0.00224, complete: true });
    // Text and tool calls stay in the order they happened.
    expect(entry.parts.map((p) => p.type)).toEqual(["text", "tool", "text"]);
    expect(entryText(entry)).toBe("Checking the VM.The VM is up: 3 days.");
    expect(entryTools(entry)).toMatchObject([
      { name: "Bash", input: { command: "ssh devvm uptime" }, isError: false },
    ]);
    expect(entryTools(entry)[0]?.output).toContain("up 3 days");
  });
});

describe("stream-json → chat events, line by line", () => {
  const t = () => createChatTranslator();
  it.each<[string, unknown, ChatEvent[]]>([
    [
      "empty text delta",
      {
        type: "stream_event",
        event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } },
      },
      [],
    ],
    [
      "tool input deltas (the complete block brings the input)",
      {
        type: "stream_event",
        event: {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: "{" },
        },
      },
      [],
    ],
    [
      "a sub-agent's text",
      {
        type: "stream_event",
        parent_tool_use_id: "toolu_1",
        event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } },
      },
      [],
    ],
    [
      "a sub-agent's tool call",
      {
        type: "assistant",
        session_id: "s",
        parent_tool_use_id: "toolu_1",
        message: {
          id: "m",
          role: "assistant",
          content: [{ type: "tool_use", id: "t", name: "Read", input: {} }],
        },
      },
      [],
    ],
    [
      "a complete text block (its text came as deltas)",
      {
        type: "assistant",
        session_id: "s",
        message: { id: "m", role: "assistant", content: [{ type: "text", text: "x" }] },
      },
      [],
    ],
    ["status", { type: "system", subtype: "status", status: "requesting", session_id: "s" }, []],
    [
      "a user message with plain text",
      { type: "user", session_id: "s", message: { role: "user", content: "hi" } },
      [],
    ],
  ])("%s ⇒ nothing", (_name, value, expected) => {
    expect(t()(line(value))).toEqual(expected);
  });

  it("system init, as the CLI recorded it ⇒ nothing", () => {
    const inits = ["turn-tool-call.jsonl", "turn-denied.jsonl"].flatMap((name) =>
      fixture(name).filter((l) => l.type === "system" && l.subtype === "init"),
    );
    expect(inits).toHaveLength(2);
    for (const init of inits) expect(t()(init)).toEqual([]);
  });

  it("malformed and unknown lines ⇒ nothing", () => {
    expect(t()({ type: "malformed", line: "x", reason: "y" })).toEqual([]);
    expect(t()({ type: "unknown", raw: { type: "future" } })).toEqual([]);
  });

  it("tool results: block content joined, long output clipped, unknown call ⇒ name null", () => {
    const out = t()(
      toolResults(
        { type: "tool_result", tool_use_id: "a", content: texts("one", "two") },
        {
          type: "tool_result",
          tool_use_id: "b",
          content: "x".repeat(MAX_TOOL_OUTPUT_CHARS + 10),
          is_error: true,
        },
      ),
    );
    expect(out[0]).toEqual({
      type: "tool",
      phase: "result",
      id: "a",
      name: null,
      output: "one\ntwo",
      isError: false,
      truncated: false,
    });
    expect(out[1]).toMatchObject({ id: "b", isError: true, truncated: true });
    expect((out[1] as { output: string }).output.length).toBe(MAX_TOOL_OUTPUT_CHARS + 1);
  });

  it("an API failure's result line still reports its cost", () => {
    const out = t()(
      line({
        type: "result",
        subtype: "success",
        is_error: true,
        api_error_status: 529,
        duration_ms: 1200,
        num_turns: 1,
        result: "API Error: 529 Overloaded",
        session_id: "s",
        total_cost_usd: 0.5,
        usage: { input_tokens: 10, output_tokens: 0 },
      }),
    );
    expect(out).toEqual([
      {
        type: "result",
        isError: true,
        costUsd: 0.5,
        durationMs: 1200,
        numTurns: 1,
        inputTokens: 10,
        outputTokens: 0,
        permissionDenials: [],
      },
    ]);
  });
});
