import { describe, expect, it } from "vitest";
import { parseJsonOutput, parseLine } from "./parse.js";
import {
  apiRetryLine,
  rateLimitAllowedLine,
  rateLimitRejectedLine,
  rateLimitThrottledLine,
} from "./test-support/cli-lines.js";

const result = {
  type: "result",
  subtype: "success",
  is_error: false,
  api_error_status: null,
  duration_ms: 120,
  num_turns: 1,
  result: "hi",
  session_id: "s1",
  total_cost_usd: 0.01,
  usage: { input_tokens: 10, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  modelUsage: { "claude-x": { inputTokens: 10, outputTokens: 2, costUSD: 0.01 } },
  permission_denials: [],
  future_field: 42,
};

describe("parseLine", () => {
  it("skips blank lines", () => {
    expect(parseLine("")).toBeUndefined();
    expect(parseLine("   ")).toBeUndefined();
  });
  it("parses a result and keeps unknown fields", () => {
    const ev = parseLine(JSON.stringify(result));
    expect(ev?.type).toBe("result");
    expect(ev).toMatchObject({ total_cost_usd: 0.01, session_id: "s1", future_field: 42 });
  });
  it("fills defaults of an error result without result text", () => {
    const ev = parseLine(
      JSON.stringify({
        type: "result",
        subtype: "error_during_execution",
        is_error: true,
        session_id: "s",
        errors: ["boom"],
      }),
    );
    expect(ev).toMatchObject({
      subtype: "error_during_execution",
      total_cost_usd: 0,
      permission_denials: [],
      errors: ["boom"],
    });
  });
  it("parses system init, api_retry and other system lines", () => {
    expect(
      parseLine(
        JSON.stringify({
          type: "system",
          subtype: "init",
          session_id: "s",
          cwd: "/w",
          tools: [],
          model: "m",
          permissionMode: "default",
        }),
      ),
    ).toMatchObject({ subtype: "init", tools: [] });
    expect(parseLine(JSON.stringify(apiRetryLine))).toMatchObject({
      subtype: "api_retry",
      error_status: 529,
    });
    expect(
      parseLine(JSON.stringify({ type: "system", subtype: "status", status: "requesting" })),
    ).toMatchObject({
      subtype: "status",
    });
  });
  it("parses assistant tool_use and user tool_result lines", () => {
    const a = parseLine(
      JSON.stringify({
        type: "assistant",
        session_id: "s",
        message: {
          id: "m1",
          role: "assistant",
          content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } }],
        },
      }),
    );
    expect(a).toMatchObject({ type: "assistant", message: { content: [{ name: "Bash" }] } });
    const u = parseLine(
      JSON.stringify({
        type: "user",
        session_id: "s",
        message: {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: "out", is_error: false }],
        },
      }),
    );
    expect(u).toMatchObject({ type: "user" });
  });
  it("passes unknown line types through untouched", () => {
    const raw = { type: "future_event", x: [1] };
    expect(parseLine(JSON.stringify(raw))).toEqual({ type: "unknown", raw });
  });
  it("parses rate_limit_event lines, keeping fields it does not name", () => {
    expect(parseLine(JSON.stringify(rateLimitAllowedLine))).toEqual(rateLimitAllowedLine);
    expect(parseLine(JSON.stringify(rateLimitThrottledLine))).toEqual(rateLimitThrottledLine);
    const future = {
      ...rateLimitRejectedLine,
      rate_limit_info: { status: "rejected", resetsAt: null, extra: 1 },
    };
    expect(parseLine(JSON.stringify(future))).toEqual(future);
  });
  it.each([
    ["not json", /not JSON/],
    ["[1,2]", /not a JSON object/],
    ['"str"', /not a JSON object/],
    ['{"type":"result","subtype":"success"}', /result line: is_error/],
    ['{"type":"assistant","message":{}}', /assistant line/],
    [
      '{"type":"rate_limit_event","rate_limit_info":{"resetsAt":1}}',
      /rate_limit_event line: rate_limit_info.status/,
    ],
  ])("reports the malformed line %j", (line, reason) => {
    const ev = parseLine(line);
    expect(ev?.type).toBe("malformed");
    expect((ev as { reason: string }).reason).toMatch(reason);
  });
  it("clips a huge malformed line", () => {
    const ev = parseLine(`x${"y".repeat(5000)}`);
    expect((ev as { line: string }).line.length).toBeLessThan(600);
  });
});

describe("parseJsonOutput", () => {
  it("reads the single result object", () => {
    expect(parseJsonOutput(`${JSON.stringify(result)}\n`)).toMatchObject({ type: "result", result: "hi" });
  });
  it("reads the last result of a --verbose array", () => {
    const out = JSON.stringify([{ type: "system", subtype: "init" }, result]);
    expect(parseJsonOutput(out)).toMatchObject({ type: "result", session_id: "s1" });
  });
  it.each([
    ["", /empty/],
    ["{", /not JSON/],
    ['{"type":"assistant"}', /type/],
  ])("reports %j", (out, reason) => {
    const r = parseJsonOutput(out);
    expect(r.type).toBe("malformed");
    expect((r as { reason: string }).reason).toMatch(reason);
  });
});
