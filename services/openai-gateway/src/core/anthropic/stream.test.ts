import Anthropic from "@anthropic-ai/sdk";
import type { JobEvent } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { failedJob, jobRecord } from "../../test-support/records.js";
import { JobTimedOutError } from "../errors.js";
import { StructuredOutputInvalidError } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";
import { createMessageEncoder, type MessageStreamEvent } from "./stream.js";

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const ctx = { id: "msg_1", model: "claude-haiku-4-5", jobId: JOB };
let seq = 0;
const ev = (body: Record<string, unknown>) => ({ jobId: "j", seq: seq++, at: "t", ...body }) as JobEvent;
const text = (delta: string) => ev({ type: "text", delta });
const toolUse = ev({ type: "tool_use", toolUseId: "t1", name: "Bash", input: {} });
const toolResult = ev({ type: "tool_result", toolUseId: "t1", isError: false, content: "ok" });
const running = ev({ type: "status", status: "running" });
const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

/** Each event's type, and a delta's text or JSON: what a client sees, in order. */
const shape = (events: MessageStreamEvent[]) =>
  events.map((e) =>
    e.type !== "content_block_delta"
      ? e.type
      : e.delta.type === "text_delta"
        ? e.delta.text
        : e.delta.partial_json,
  );

function run(events: JobEvent[], job = jobRecord(), opts: { stop?: string[]; jsonSchema?: object } = {}) {
  const encoder = createMessageEncoder(ctx, {
    stop: opts.stop ?? [],
    jsonSchema: opts.jsonSchema as Record<string, unknown> | undefined,
  });
  const live = events.flatMap((e) => encoder.push(e));
  return { live, end: encoder.finish(job), encoder };
}

const final = (text: string, patch: Record<string, unknown> = {}) =>
  jobRecord({ result: { ...jobRecord().result!, text, ...patch } });

describe("createMessageEncoder", () => {
  it("opens the message at the first text, sends each delta as it came, then ends it", () => {
    const { live, end } = run([running, text("Hello"), text(" there.")]);
    expect(shape([...live, ...end])).toEqual([
      "message_start",
      "content_block_start",
      "Hello",
      " there.",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("its events are the SDK's RawMessageStreamEvents, with the fields the SDK reads", () => {
    const { live, end } = run([text("Hello there.")]);
    const events: Anthropic.RawMessageStreamEvent[] = [...live, ...end];
    expect(events[0]).toEqual({
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-haiku-4-5",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        container: null,
        diagnostics: null,
        usage: expect.objectContaining({ input_tokens: 0, output_tokens: 0 }),
      },
    });
    expect(events[1]).toEqual({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "", citations: null },
    });
    expect(events[2]).toEqual({
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Hello there." },
    });
    expect(events.slice(3)).toEqual([
      { type: "content_block_stop", index: 0 },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null, stop_details: null, container: null },
        // The run's totals: the SDK overwrites the message's counts with them.
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_creation_input_tokens: 20,
          cache_read_input_tokens: 100,
          output_tokens_details: null,
          server_tool_use: null,
        },
      },
      { type: "message_stop" },
    ]);
  });

  it("is one message across the agent's API messages: text after tool activity is a new paragraph of the same block", () => {
    const { live, end } = run(
      [text("Let me look."), toolUse, toolResult, text("Found it.")],
      final("Found it."),
    );
    const all = [...live, ...end];
    expect(shape(all)).toEqual([
      "message_start",
      "content_block_start",
      "Let me look.",
      "\n\nFound it.",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(all.filter((e) => e.type === "content_block_start")).toHaveLength(1);
  });

  it("a tool call before any text adds no blank line", () => {
    const { live } = run([toolUse, toolResult, text("Done.")], final("Done."));
    expect(shape(live)).toEqual(["message_start", "content_block_start", "Done."]);
  });

  it("has content only once text went out", () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    expect(encoder.push(running)).toEqual([]);
    expect(encoder.hasContent).toBe(false);
    encoder.push(text("x"));
    expect(encoder.hasContent).toBe(true);
  });

  it("open() starts the message before any text, once; the text block starts with the text", () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    expect(shape(encoder.open())).toEqual(["message_start"]);
    expect(encoder.open()).toEqual([]);
    expect(shape(encoder.push(text("Hi")))).toEqual(["content_block_start", "Hi"]);
  });

  it("an empty answer after open() is still one (empty) text block", () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    const out = [...encoder.open(), ...encoder.finish(final(""))];
    expect(shape(out)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("sends the part of the final answer that no event carried (events are not durable)", () => {
    const { live, end } = run([text("Hello")], final("Hello there."));
    expect(shape([...live, ...end]).filter((s) => !s.includes("_"))).toEqual(["Hello", " there."]);
  });

  it("sends all of a final answer when no event arrived", () => {
    const { end } = run([], final("All of it."));
    expect(shape(end)).toEqual([
      "message_start",
      "content_block_start",
      "All of it.",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("cuts at a stop sequence split across deltas, and names it in message_delta", () => {
    const { live, end } = run([text("one, tw"), text("o, three")], final("one, two, three"), {
      stop: ["END", ", three"],
    });
    const all = [...live, ...end];
    expect(
      all
        .filter((e) => e.type === "content_block_delta")
        .map((e) => (e.delta.type === "text_delta" ? e.delta.text : ""))
        .join(""),
    ).toBe("one, two");
    expect(all.find((e) => e.type === "message_delta")).toMatchObject({
      delta: { stop_reason: "stop_sequence", stop_sequence: ", three" },
    });
  });

  it("releases text held back for a stop sequence that never came", () => {
    const { live, end } = run([text("ab")], final("ab"), { stop: ["bc"] });
    expect(shape(live)).toEqual(["message_start", "content_block_start", "a"]);
    expect(shape(end)[0]).toBe("b");
    expect(end.find((e) => e.type === "message_delta")).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
    });
  });

  it("says max_tokens when the model's last message hit its limit", () => {
    const { end } = run([text("Hello there.")], final("Hello there.", { stopReason: "max_tokens" }));
    expect(end.find((e) => e.type === "message_delta")).toMatchObject({
      delta: { stop_reason: "max_tokens" },
    });
  });

  it("structured output: the prose on the way is not sent; the object is, whole, at the end", () => {
    const job = final('{"city":"Sofia"}', { structuredOutput: { city: "Sofia" } });
    const { live, end, encoder } = run([text("Let me think."), toolUse], job, { jsonSchema: SCHEMA });
    expect(live).toEqual([]);
    expect(encoder.hasContent).toBe(true);
    expect(shape(end)).toEqual([
      "message_start",
      "content_block_start",
      '{"city":"Sofia"}',
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  it("structured output missing: the client's error, not the prose", () => {
    expect(() => run([text("Sofia.")], final("Sofia."), { jsonSchema: SCHEMA })).toThrow(
      StructuredOutputInvalidError,
    );
  });

  it("throws the client's error for a job that did not succeed", () => {
    expect(() => run([text("Hel")], failedJob("timed_out", "timeout"))).toThrow(JobTimedOutError);
  });
});

describe("createMessageEncoder when the job pauses on the caller's tools", () => {
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const toolCalls = (said: string) => ev({ type: "tool_calls", calls, text: said, expiresAt: "t" });

  it("closes the text block, sends a tool_use block per call, then stop_reason tool_use", () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    const live = encoder.push(text("Let me check."));
    const end = encoder.push(toolCalls("Let me check."));
    expect(shape([...live, ...end])).toEqual([
      "message_start",
      "content_block_start",
      "Let me check.",
      "content_block_stop",
      "content_block_start",
      '{"city":"Sofia"}',
      "content_block_stop",
      "content_block_start",
      "{}",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const events: Anthropic.RawMessageStreamEvent[] = end;
    expect(events.slice(0, 4)).toEqual([
      { type: "content_block_stop", index: 0 },
      {
        type: "content_block_start",
        index: 1,
        content_block: {
          type: "tool_use",
          id: clientCallId(JOB, "toolu_01"),
          name: "get_weather",
          input: {},
          caller: { type: "direct" },
        },
      },
      {
        type: "content_block_delta",
        index: 1,
        delta: { type: "input_json_delta", partial_json: '{"city":"Sofia"}' },
      },
      { type: "content_block_stop", index: 1 },
    ]);
    expect(end[4]).toMatchObject({ index: 2, content_block: { id: clientCallId(JOB, "toolu_02") } });
    expect(end.slice(-2)).toEqual([
      {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null, stop_details: null, container: null },
        // The job goes on: its spend is reported when it ends.
        usage: {
          input_tokens: 0,
          output_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens_details: null,
          server_tool_use: null,
        },
      },
      { type: "message_stop" },
    ]);
  });

  it("calls before any text: no text block, the first call at index 0", () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    const out = [...encoder.open(), ...encoder.push(running), ...encoder.push(toolCalls(""))];
    expect(shape(out).slice(0, 2)).toEqual(["message_start", "content_block_start"]);
    expect(out[1]).toMatchObject({ index: 0, content_block: { type: "tool_use" } });
    expect(encoder.hasContent).toBe(true);
  });

  it("sends the message's text that no event carried, and text held back for a stop sequence", () => {
    const missed = createMessageEncoder(ctx, { stop: [] });
    missed.push(text("Let me"));
    expect(shape(missed.push(toolCalls("Let me check."))).slice(0, 2)).toEqual([
      " check.",
      "content_block_stop",
    ]);

    const held = createMessageEncoder(ctx, { stop: ["END"] });
    expect(shape(held.push(text("Checking E")))).toEqual([
      "message_start",
      "content_block_start",
      "Checking ",
    ]);
    expect(shape(held.push(toolCalls("Checking E"))).slice(0, 2)).toEqual(["E", "content_block_stop"]);
  });

  it("is assembled by the Anthropic SDK's stream helper into tool_use blocks", async () => {
    const encoder = createMessageEncoder(ctx, { stop: [] });
    const events = [
      ...encoder.push(text("Let me ")),
      ...encoder.push(text("check.")),
      ...encoder.push(toolCalls("Let me check.")),
    ];
    const body = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
    const client = new Anthropic({
      apiKey: "k",
      baseURL: "http://gateway.test",
      fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
    });
    const message = await client.messages
      .stream({
        model: "claude-haiku-4-5",
        max_tokens: 1024,
        messages: [{ role: "user", content: "Weather and time in Sofia?" }],
        tools: [{ name: "get_weather", input_schema: { type: "object" } }],
      })
      .finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual([
      { type: "text", text: "Let me check.", citations: null },
      {
        type: "tool_use",
        id: clientCallId(JOB, "toolu_01"),
        name: "get_weather",
        input: { city: "Sofia" },
        caller: { type: "direct" },
      },
      {
        type: "tool_use",
        id: clientCallId(JOB, "toolu_02"),
        name: "get_time",
        input: {},
        caller: { type: "direct" },
      },
    ]);
  });
});
