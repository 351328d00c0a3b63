import { jobIdFor } from "@claude-gateway/contracts";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { clientCallId } from "../core/tools/call-id.js";
import type { FakeExecutor } from "../test-support/fake-executor.js";
import { TEST_TOKEN, TESTER, testApp } from "../test-support/test-app.js";

// `POST /v1/chat/completions` with the caller's tools, through the app on the fake executor: the
// calls a job pauses on, and the results that continue it (the rest of the route: app.test.ts).

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

const calls = [
  { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
  { id: "toolu_02", name: "get_time", input: {} },
];
const tools = [
  {
    type: "function" as const,
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  },
  { type: "function" as const, function: { name: "get_time" } },
];
const question = { role: "user" as const, content: "Weather and time in Sofia?" };
/** The first job's id (its client id `oai-u1`). */
const JOB = jobIdFor(TESTER, "oai-u1");

function setup() {
  const { app, executor } = testApp();
  const post = (body: unknown) =>
    app.request("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const client = new OpenAI({
    apiKey: TEST_TOKEN,
    baseURL: "http://gateway.test/v1",
    maxRetries: 0,
    fetch: async (url, init) => app.request(String(url), init as RequestInit),
  });
  return { executor, post, client };
}

/** The first job pauses on the calls; its results make it answer. */
function pauseThenAnswer(executor: FakeExecutor) {
  executor.onSubmit = (job) => {
    executor.emit(job.id, { type: "status", status: "running" });
    executor.emit(job.id, { type: "text", delta: "Let me check." });
    executor.pause(job.id, calls, "Let me check.");
  };
  const supply = executor.supplyToolResults.bind(executor);
  executor.supplyToolResults = async (ref, results) => {
    const reply = await supply(ref, results);
    queueMicrotask(() => executor.succeed(JOB, ["12°C at 09:00."]));
    return reply;
  };
}

describe("POST /v1/chat/completions: client tools", () => {
  it("offers the tools and answers the calls the job pauses on; their results continue it", async () => {
    const { executor, post } = setup();
    pauseThenAnswer(executor);
    const res = await post({ model: "claude-haiku-4-5", messages: [question], tools });
    expect(res.status).toBe(200);
    expect(executor.submissions[0]?.tools).toEqual([
      { name: "get_weather", inputSchema: tools[0]?.function.parameters },
      { name: "get_time", inputSchema: { type: "object", properties: {} } },
    ]);
    const body = (await res.json()) as Json;
    expect(body.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check.",
        refusal: null,
        tool_calls: [
          {
            id: clientCallId(JOB, "toolu_01"),
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Sofia"}' },
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
    });
    expect(body.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0 });

    const message = body.choices[0].message;
    const next = await post({
      model: "claude-haiku-4-5",
      tools,
      messages: [
        question,
        message,
        { role: "tool", tool_call_id: message.tool_calls[0].id, content: "12°C" },
        { role: "tool", tool_call_id: message.tool_calls[1].id, content: [{ type: "text", text: "09:00" }] },
      ],
    });
    expect(next.status).toBe(200);
    expect(executor.submissions).toHaveLength(1);
    expect(executor.toolResults).toEqual([
      {
        id: JOB,
        results: [
          { id: "toolu_01", content: "12°C" },
          { id: "toolu_02", content: "09:00" },
        ],
      },
    ]);
    expect(((await next.json()) as Json).choices[0]).toMatchObject({
      message: { content: "12°C at 09:00." },
      finish_reason: "stop",
    });
  });

  it("works as the openai SDK's tool loop, streamed: the calls, then the answer", async () => {
    const { executor, client } = setup();
    pauseThenAnswer(executor);
    const messages: OpenAI.ChatCompletionMessageParam[] = [question];
    const first = await client.chat.completions
      .stream({ model: "claude-haiku-4-5", messages, tools, stream_options: { include_usage: true } })
      .finalChatCompletion();
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls?.map((c) => c.id)).toEqual([
      clientCallId(JOB, "toolu_01"),
      clientCallId(JOB, "toolu_02"),
    ]);
    messages.push(choice.message);
    for (const call of choice.message.tool_calls ?? []) {
      messages.push({
        role: "tool",
        tool_call_id: call.id,
        content: call.id.endsWith("01") ? "12°C" : "09:00",
      });
    }
    const second = await client.chat.completions.create({ model: "claude-haiku-4-5", messages, tools });
    expect(second.choices[0]?.message.content).toBe("12°C at 09:00.");
    expect(executor.toolResults).toHaveLength(1);
  });

  it("refuses results for calls it did not make, before the executor is asked", async () => {
    const { executor, post } = setup();
    const res = await post({
      messages: [
        question,
        {
          role: "assistant",
          tool_calls: [
            { id: "call_x", type: "function", function: { name: "get_weather", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "call_x", content: "12°C" },
      ],
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toEqual({
      type: "invalid_request_error",
      code: "invalid_tool_call_id",
      param: "messages[2].tool_call_id",
      message:
        "'call_x' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
    });
    expect(executor.submissions).toEqual([]);
    expect(executor.toolResults).toEqual([]);
  });
});
