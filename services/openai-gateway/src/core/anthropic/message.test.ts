import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { failedJob, jobRecord } from "../../test-support/records.js";
import { JobFailedError } from "../errors.js";
import { StructuredOutputInvalidError } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";
import {
  cutAtStop,
  messageFromJob,
  messageId,
  pausedMessage,
  stopReasonOf,
  stopSequenceAt,
  type TextContent,
  usageOf,
} from "./message.js";

const ctx = { id: "msg_1", model: "claude-haiku-4-5" };
const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

describe("messageFromJob", () => {
  it("is the SDK's Message: one text block, end_turn, the run's four token counts", () => {
    const message: Anthropic.Message = messageFromJob(ctx, jobRecord(), { stop: [] });
    expect(message).toEqual({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: "Hello there.", citations: null }],
      stop_reason: "end_turn",
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_creation_input_tokens: 20,
        cache_read_input_tokens: 100,
        cache_creation: null,
        inference_geo: null,
        output_tokens_details: null,
        server_tool_use: null,
        service_tier: null,
        speed: null,
      },
    });
  });

  it("cuts the answer at a stop sequence and says which", () => {
    const message = messageFromJob(ctx, jobRecord(), { stop: ["xyz", "there"] });
    expect((message.content[0] as TextContent).text).toBe("Hello ");
    expect(message).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "there" });
  });

  it("says max_tokens when the model's last message hit its limit", () => {
    const job = jobRecord({ result: { ...jobRecord().result!, stopReason: "max_tokens" } });
    expect(messageFromJob(ctx, job, { stop: [] }).stop_reason).toBe("max_tokens");
  });

  it("answers structured output with the job's object as JSON, checked against the schema", () => {
    const job = jobRecord({
      result: { ...jobRecord().result!, text: '{"city":"Sofia"}', structuredOutput: { city: "Sofia" } },
    });
    const message = messageFromJob(ctx, job, { stop: [], jsonSchema: SCHEMA });
    expect(JSON.parse((message.content[0] as TextContent).text)).toEqual({ city: "Sofia" });
    // Prose is never passed off as the structured answer.
    expect(() => messageFromJob(ctx, jobRecord(), { stop: [], jsonSchema: SCHEMA })).toThrow(
      StructuredOutputInvalidError,
    );
  });

  it("throws the client's error for a job that did not succeed", () => {
    expect(() => messageFromJob(ctx, failedJob("failed", "upstream_error"), { stop: [] })).toThrow(
      JobFailedError,
    );
  });
});

describe("the parts", () => {
  it("messageId: msg_ and the uuid's hex", () => {
    expect(messageId("0b8a3c7e-1f2d-4e5a-9b6c-7d8e9f0a1b2c")).toBe("msg_0b8a3c7e1f2d4e5a9b6c7d8e9f0a1b2c");
  });

  it("usageOf: zeros without usage", () => {
    expect(usageOf(undefined)).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  });

  it.each<[string | undefined, string | null, string]>([
    [undefined, null, "end_turn"],
    ["end_turn", null, "end_turn"],
    ["tool_use", null, "end_turn"],
    ["max_tokens", null, "max_tokens"],
    ["refusal", null, "refusal"],
    ["max_tokens", "END", "stop_sequence"],
  ])("stopReasonOf(%s, %s) = %s", (model, stop, expected) => {
    expect(stopReasonOf(model, stop)).toBe(expected);
  });

  it("cutAtStop: the earliest match wins; at one place, the first listed", () => {
    expect(cutAtStop("a, b, c", [", c", ", b"])).toEqual({ text: "a", stopSequence: ", b" });
    expect(cutAtStop("abc", ["bc", "b"])).toEqual({ text: "a", stopSequence: "bc" });
    expect(cutAtStop("abc", [])).toEqual({ text: "abc", stopSequence: null });
    expect(cutAtStop("abc", ["x"])).toEqual({ text: "abc", stopSequence: null });
  });

  it("stopSequenceAt: the sequence that starts where the kept text ends", () => {
    expect(stopSequenceAt("one STOP two", 4, ["END", "STOP"])).toBe("STOP");
    expect(stopSequenceAt("one", 3, ["STOP"])).toBeNull();
  });
});

describe("pausedMessage", () => {
  const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];

  it("is the SDK's Message: the text, a tool_use block per call with the gateway's ids, stop_reason tool_use, no usage yet", () => {
    const message: Anthropic.Message = pausedMessage(ctx, JOB, { calls, text: "Let me check." });
    expect(message).toEqual({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [
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
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: usageOf(undefined),
    });
    expect(message.usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });
  });

  it("has no text block when the model said nothing (Anthropic refuses empty ones when sent back)", () => {
    expect(pausedMessage(ctx, JOB, { calls, text: "" }).content.map((b) => b.type)).toEqual([
      "tool_use",
      "tool_use",
    ]);
  });
});
