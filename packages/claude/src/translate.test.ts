import { describe, expect, it } from "vitest";
import type { ParsedLine } from "./events.js";
import { parseLine } from "./parse.js";
import {
  apiRetryLine,
  rateLimitAllowedLine,
  rateLimitRejectedLine,
  rateLimitThrottledLine,
} from "./test-support/cli-lines.js";
import { contentText, type RunEvent, translateLine } from "./translate.js";

const line = (v: unknown): ParsedLine => {
  const parsed = parseLine(JSON.stringify(v));
  if (!parsed || parsed.type === "malformed") throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed;
};

const delta = (d: unknown, parent: string | null = null) => ({
  type: "stream_event",
  session_id: "s",
  parent_tool_use_id: parent,
  event: { type: "content_block_delta", index: 0, delta: d },
});
const assistant = (content: unknown[], parent: string | null = null) => ({
  type: "assistant",
  session_id: "s",
  parent_tool_use_id: parent,
  message: { id: "m", role: "assistant", content },
});
const user = (content: unknown, parent: string | null = null) => ({
  type: "user",
  session_id: "s",
  parent_tool_use_id: parent,
  message: { role: "user", content },
});
const result = {
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 120,
  num_turns: 1,
  result: "hi",
  session_id: "s",
  total_cost_usd: 0.01,
  usage: { input_tokens: 10, output_tokens: 2 },
};

describe("translateLine", () => {
  it.each<[string, unknown, RunEvent[]]>([
    [
      "a text delta: the raw API event, then its text",
      delta({ type: "text_delta", text: "Hel" }),
      [
        {
          type: "stream_event",
          event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
        },
        { type: "text_delta", text: "Hel" },
      ],
    ],
    [
      "an empty text delta: the raw event only",
      delta({ type: "text_delta", text: "" }),
      [
        {
          type: "stream_event",
          event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } },
        },
      ],
    ],
    [
      "a tool input delta: the raw event only",
      delta({ type: "input_json_delta", partial_json: "{" }),
      [
        {
          type: "stream_event",
          event: {
            type: "content_block_delta",
            index: 0,
            delta: { type: "input_json_delta", partial_json: "{" },
          },
        },
      ],
    ],
    [
      "message_stop: the raw event",
      { type: "stream_event", event: { type: "message_stop" } },
      [{ type: "stream_event", event: { type: "message_stop" } }],
    ],
    ["a sub-agent's delta: nothing", delta({ type: "text_delta", text: "x" }, "toolu_0"), []],
    [
      "an assistant message: its text and tool calls, in order",
      assistant([
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "" },
      ]),
      [
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
      ],
    ],
    [
      "a tool_use block without an id: nothing",
      assistant([{ type: "tool_use", name: "Bash", input: {} }]),
      [],
    ],
    [
      "a sub-agent's assistant message: nothing",
      assistant([{ type: "tool_use", id: "t", name: "Read", input: {} }], "toolu_0"),
      [],
    ],
    [
      "tool results, with their content as given",
      user([
        { type: "tool_result", tool_use_id: "t1", content: "out", is_error: true },
        { type: "tool_result", tool_use_id: "t2", content: [{ type: "text", text: "a" }] },
        { type: "text", text: "not a result" },
      ]),
      [
        { type: "tool_result", toolUseId: "t1", content: "out", isError: true },
        { type: "tool_result", toolUseId: "t2", content: [{ type: "text", text: "a" }], isError: false },
      ],
    ],
    ["a user message with plain text: nothing", user("hi"), []],
    [
      "a sub-agent's tool result: nothing",
      user([{ type: "tool_result", tool_use_id: "t", content: "x" }], "toolu_0"),
      [],
    ],
    [
      "an API retry",
      apiRetryLine,
      [
        {
          type: "api_retry",
          attempt: 1,
          maxRetries: 2,
          retryDelayMs: 500,
          errorStatus: 529,
          error: "overloaded",
        },
      ],
    ],
    [
      "an API retry without a status",
      {
        type: "system",
        subtype: "api_retry",
        attempt: 2,
        max_retries: 2,
        retry_delay_ms: 1000,
        error_status: null,
      },
      [
        {
          type: "api_retry",
          attempt: 2,
          maxRetries: 2,
          retryDelayMs: 1000,
          errorStatus: undefined,
          error: undefined,
        },
      ],
    ],
    [
      "system init: nothing",
      {
        type: "system",
        subtype: "init",
        session_id: "s",
        cwd: "/",
        tools: [],
        model: "m",
        permissionMode: "default",
      },
      [],
    ],
    ["other system lines: nothing", { type: "system", subtype: "status", status: "requesting" }, []],
  ])("%s", (_name, value, expected) => {
    expect(translateLine(line(value))).toEqual(expected);
  });

  it("the result line, whole (defaults filled by the parser)", () => {
    const parsed = line(result);
    expect(translateLine(parsed)).toEqual([{ type: "result", result: parsed }]);
    expect(translateLine(parsed)[0]).toMatchObject({
      result: { total_cost_usd: 0.01, permission_denials: [] },
    });
  });

  it("a rate_limit_event: the plan's verdict and every window it reported", () => {
    expect(translateLine(line(rateLimitAllowedLine))).toEqual([
      {
        type: "rate_limit",
        status: "allowed",
        window: "five_hour",
        resetsAt: 1796418078,
        usingOverage: false,
        windows: [
          { window: "five_hour", utilization: 0.42, resetsAt: 1796418078, status: "allowed" },
          { window: "seven_day", utilization: 0.17, resetsAt: 1796673678, status: "allowed" },
        ],
      },
    ]);
    expect(translateLine(line(rateLimitRejectedLine))).toMatchObject([
      { status: "rejected", window: "five_hour", windows: [{ utilization: 1, status: "rejected" }, {}] },
    ]);
  });

  it("a rate_limit_event without windows (a 429 without the plan headers): the verdict alone", () => {
    expect(translateLine(line(rateLimitThrottledLine))).toEqual([
      {
        type: "rate_limit",
        status: "rejected",
        window: undefined,
        resetsAt: undefined,
        usingOverage: false,
        windows: [],
      },
    ]);
  });

  it("a rate_limit_event naming a window its list lacks: that window from the top-level fields", () => {
    const info = {
      status: "allowed_warning",
      resetsAt: 9,
      rateLimitType: "overage",
      utilization: 0.9,
      isUsingOverage: true,
    };
    expect(translateLine(line({ type: "rate_limit_event", rate_limit_info: info }))).toEqual([
      {
        type: "rate_limit",
        status: "allowed_warning",
        window: "overage",
        resetsAt: 9,
        usingOverage: true,
        windows: [{ window: "overage", utilization: 0.9, resetsAt: 9, status: "allowed_warning" }],
      },
    ]);
  });

  it("malformed and unknown lines: nothing", () => {
    expect(translateLine({ type: "malformed", line: "x", reason: "y" })).toEqual([]);
    expect(translateLine({ type: "unknown", raw: { type: "future" } })).toEqual([]);
  });
});

describe("contentText", () => {
  const blocks = [
    { type: "text", text: "one" },
    { type: "image", source: { type: "base64", data: "AAAA" } },
    { type: "text", text: "" },
    { type: "text", text: "two" },
  ];
  it.each<[string, unknown, string, string]>([
    ["a string", "plain", "plain", "plain"],
    ["no content", undefined, "", ""],
    ["null", null, "", "null"],
    ["an object", { a: 1 }, '{"a":1}', '{"a":1}'],
    [
      "text blocks",
      [
        { type: "text", text: "a" },
        { type: "text", text: "b" },
      ],
      "a\nb",
      "a\nb",
    ],
    [
      "mixed blocks",
      blocks,
      "one\ntwo",
      'one\n{"type":"image","source":{"type":"base64","data":"AAAA"}}\n\ntwo',
    ],
    ["an empty list", [], "", ""],
  ])("%s", (_name, content, omitted, json) => {
    expect(contentText(content)).toBe(omitted);
    expect(contentText(content, { nonText: "omit" })).toBe(omitted);
    expect(contentText(content, { nonText: "json" })).toBe(json);
  });
});
