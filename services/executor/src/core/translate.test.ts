import { parseLine } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { eventSequencer, readLine, translateLine } from "./translate.js";

const line = (v: unknown) => parseLine(JSON.stringify(v))!;
/** The user line the CLI writes with what the tools returned. */
const toolResults = (...content: object[]) =>
  line({ type: "user", session_id: "s", message: { role: "user", content } });
const texts = (...parts: string[]) => parts.map((text) => ({ type: "text", text }));

describe("readLine", () => {
  it("a rate_limit_event is the plan's reading, not a job event", () => {
    const ev = line({
      type: "rate_limit_event",
      session_id: "s",
      rate_limit_info: {
        status: "allowed",
        resetsAt: 1796418078,
        rateLimitType: "five_hour",
        isUsingOverage: false,
        unifiedWindows: { five_hour: { utilization: 0.42, resetsAt: 1796418078, status: "allowed" } },
      },
    });
    expect(readLine(ev)).toEqual({
      events: [],
      plan: [
        {
          type: "rate_limit",
          status: "allowed",
          window: "five_hour",
          resetsAt: 1796418078,
          usingOverage: false,
          windows: [{ window: "five_hour", utilization: 0.42, resetsAt: 1796418078, status: "allowed" }],
        },
      ],
    });
    expect(translateLine(ev)).toEqual([]);
  });
  it("any other line carries no plan reading", () => {
    const ev = line({
      type: "stream_event",
      event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
    });
    expect(readLine(ev)).toEqual({ events: [{ type: "text", delta: "Hi" }], plan: [] });
  });
});

describe("translateLine", () => {
  it("text deltas from partial messages", () => {
    expect(
      translateLine(
        line({
          type: "stream_event",
          event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
        }),
      ),
    ).toEqual([{ type: "text", delta: "Hi" }]);
  });
  it("tool calls from assistant blocks, not their text (it came as deltas)", () => {
    const ev = line({
      type: "assistant",
      session_id: "s",
      message: {
        id: "m",
        role: "assistant",
        content: [
          { type: "text", text: "Let me look." },
          { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
        ],
      },
    });
    expect(translateLine(ev)).toEqual([
      { type: "tool_use", toolUseId: "t1", name: "Bash", input: { command: "ls" } },
    ]);
  });
  it("tool results from user lines, clipped, string or block content", () => {
    const ev = toolResults(
      { type: "tool_result", tool_use_id: "t1", content: "x".repeat(5000), is_error: true },
      { type: "tool_result", tool_use_id: "t2", content: texts("a", "b") },
    );
    const [a, b] = translateLine(ev) as Array<{ type: string; content: string; isError: boolean }>;
    expect(a).toMatchObject({ type: "tool_result", toolUseId: "t1", isError: true });
    expect(a!.content.length).toBeLessThan(4200);
    expect(a!.content).toContain("1 more chars".replace("1", "904"));
    expect(b).toMatchObject({ toolUseId: "t2", isError: false, content: "a\nb" });
  });
  it("tool results keep non-text blocks, as JSON", () => {
    const ev = toolResults({
      type: "tool_result",
      tool_use_id: "t1",
      content: [...texts("a"), { type: "image", source: { type: "base64", data: "AA" } }],
    });
    expect(translateLine(ev)).toEqual([
      {
        type: "tool_result",
        toolUseId: "t1",
        isError: false,
        content: 'a\n{"type":"image","source":{"type":"base64","data":"AA"}}',
      },
    ]);
  });
  it("leaves out sub-agent traffic and everything else", () => {
    expect(
      translateLine(
        line({
          type: "assistant",
          session_id: "s",
          parent_tool_use_id: "t0",
          message: {
            id: "m",
            role: "assistant",
            content: [{ type: "tool_use", id: "t", name: "Read", input: {} }],
          },
        }),
      ),
    ).toEqual([]);
    expect(translateLine(line({ type: "system", subtype: "status" }))).toEqual([]);
    expect(
      translateLine(
        line({
          type: "result",
          subtype: "success",
          is_error: false,
          session_id: "s",
          result: "done",
        }),
      ),
    ).toEqual([]);
    expect(translateLine({ type: "malformed", line: "x", reason: "y" })).toEqual([]);
    expect(translateLine({ type: "unknown", raw: {} })).toEqual([]);
  });
});

describe("eventSequencer", () => {
  it("numbers and stamps events per job", () => {
    const next = eventSequencer("j", () => new Date("2026-01-01T00:00:00Z"));
    expect(next({ type: "text", delta: "a" })).toEqual({
      type: "text",
      delta: "a",
      jobId: "j",
      seq: 0,
      at: "2026-01-01T00:00:00.000Z",
    });
    expect(next({ type: "text", delta: "b" }).seq).toBe(1);
  });
});
