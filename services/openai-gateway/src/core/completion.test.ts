import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { failedJob, helloCompletion, jobRecord } from "../test-support/records.js";
import { completionFromJob, toolCallsCompletion, usageFrom } from "./completion.js";
import { JobFailedError, JobTimedOutError } from "./errors.js";
import { clientCallId } from "./tools/call-id.js";

const ctx = { id: "chatcmpl-1", created: 1_700_000_000, model: "claude-haiku-4-5" };

describe("usageFrom", () => {
  it.each<[string, Parameters<typeof usageFrom>[0], [prompt: number, completion: number, cached: number]]>([
    [
      "prompt = input + cache read + cache creation; completion = output",
      { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheCreationInputTokens: 20 },
      [130, 5, 100],
    ],
    [
      "no cache",
      { inputTokens: 3, outputTokens: 4, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      [3, 4, 0],
    ],
    ["unknown usage counts as zero", undefined, [0, 0, 0]],
  ])("%s", (_name, usage, [prompt, completion, cached]) => {
    expect(usageFrom(usage)).toEqual({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: cached },
    });
  });
});

describe("completionFromJob", () => {
  it("builds the chat completion of a succeeded job, in the SDK's type", () => {
    const completion: OpenAI.ChatCompletion = completionFromJob(ctx, jobRecord());
    expect(completion).toEqual(helloCompletion(ctx));
  });

  it("cuts the answer at a stop sequence", () => {
    expect(completionFromJob(ctx, jobRecord(), ["there"]).choices[0]?.message.content).toBe("Hello ");
  });

  it.each<[string, ReturnType<typeof failedJob>, unknown, number, string]>([
    [
      "failed",
      failedJob("failed", "upstream_error", "API error 529\nmore"),
      JobFailedError,
      503,
      "upstream_error",
    ],
    ["timed out", failedJob("timed_out", "timeout"), JobTimedOutError, 504, "timeout"],
    ["cancelled", failedJob("cancelled", "cancelled"), JobFailedError, 503, "cancelled"],
  ])("a %s job throws the client's error", (_name, job, type, status, code) => {
    let thrown: unknown;
    try {
      completionFromJob(ctx, job);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(type);
    expect(thrown).toMatchObject({ status, code });
  });
});

describe("completionFromJob with a schema", () => {
  const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
  const withOutput = (structuredOutput: unknown) =>
    jobRecord({
      result: { text: "ignored prose", sessionId: "s", numTurns: 1, permissionDenials: 0, structuredOutput },
    });

  it("answers the structured output as JSON, not the text", () => {
    const completion = completionFromJob(ctx, withOutput({ n: 3 }), [], schema);
    expect(completion.choices[0]?.message.content).toBe('{"n":3}');
  });

  it("refuses an output the schema does not take, and a missing one", () => {
    expect(() => completionFromJob(ctx, withOutput({ n: "three" }), [], schema)).toThrow(/not valid/);
    expect(() => completionFromJob(ctx, jobRecord(), [], schema)).toThrow(/without the structured output/);
  });
});

describe("toolCallsCompletion", () => {
  const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia", days: [1, 2] } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];

  it("is the calls with the gateway's ids, the text before them, finish_reason tool_calls, zero usage", () => {
    const body: OpenAI.ChatCompletion = toolCallsCompletion(ctx, JOB, { calls, text: "Let me check." });
    expect(body).toEqual({
      ...ctx,
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check.",
            refusal: null,
            tool_calls: [
              {
                id: clientCallId(JOB, "toolu_01"),
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Sofia","days":[1,2]}' },
              },
              {
                id: clientCallId(JOB, "toolu_02"),
                type: "function",
                function: { name: "get_time", arguments: "{}" },
              },
            ],
          },
          logprobs: null,
          finish_reason: "tool_calls",
        },
      ],
      usage: {
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it("has null content when the model said nothing before the calls", () => {
    expect(toolCallsCompletion(ctx, JOB, { calls, text: "" }).choices[0]?.message.content).toBeNull();
  });
});
