import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import {
  CLIENT_TOOL_PREFIX,
  callingClientTools,
  offeredToolNames,
  TEST_TOKEN,
  tempDir,
  text,
  toolResultsOf,
} from "@claude-gateway/testkit";
import type OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, TESTER, type World } from "./harness.js";

/**
 * Client tool calling with the official SDKs (openai chat completions and Responses,
 * @anthropic-ai/sdk Messages) over the whole path: gateway → NATS → executor → the real CLI
 * hosting the caller's tools → the Messages API stub, which calls them and answers from their
 * results. What crossed the wire is asserted at the stub.
 */
const OTHER_TOKEN = "other-token-0123456789";
/** A caller with one request in flight at a time. */
const SINGLE_TOKEN = "single-token-012345678";
const POLICY = {
  defaults: {
    agents: ["assistant", "general"],
    models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
    maxConcurrent: 8,
    requestsPerMinute: 1000,
    budgetUsdPerDay: 100,
  },
  callers: { single: { maxConcurrent: 1 } },
};
let cleanup: () => Promise<void>;
let world: World;
let gateway: RunningGateway;
let client: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  // Unanswered calls expire soon here (the client that never returns).
  const dir = await tempDir("cg-oai-tools-");
  cleanup = dir.cleanup;
  const policy = join(dir.dir, "policy.json");
  await writeFile(policy, JSON.stringify(POLICY), { mode: 0o600 });
  world = await createWorld({ TOOL_RESULTS_TIMEOUT_SECONDS: "10", CALLER_POLICY_FILE: policy });
  gateway = await world.gateway({
    CALLER_POLICY_FILE: policy,
    AUTH_TOKENS: `tester=${TEST_TOKEN},other=${OTHER_TOKEN},single=${SINGLE_TOKEN}`,
  });
  client = world.client(gateway);
  anthropic = new Anthropic({ baseURL: gateway.url, apiKey: TEST_TOKEN, maxRetries: 0 });
});
afterAll(async () => {
  await world?.close();
  await cleanup?.();
});
beforeEach(() => {
  world.stub.reset();
});
afterEach(async () => {
  await world.noCliLeft();
});

const CITY = {
  type: "object",
  properties: { city: { type: "string", description: "A city name" } },
  required: ["city"],
};
const chatTools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: "function",
    function: { name: "get_weather", description: "The weather in a city", parameters: CITY },
  },
  {
    type: "function",
    function: { name: "local_time", description: "The local time in a city", parameters: CITY },
  },
];
const weatherIn = (city: string) => ({ name: "get_weather", input: { city } });
const timeIn = (city: string) => ({ name: "local_time", input: { city } });
/** The model answers with what the tools returned. */
const answerWith = (results: Array<{ content: string; isError: boolean }>) =>
  `From the tools: ${results.map((r) => `${r.content}${r.isError ? " (error)" : ""}`).join("; ")}`;
/** The agent requests of the stub, the CLI's side requests left out. */
const turns = () => world.stub.turnRequests();

describe("chat completions with the caller's tools", () => {
  it("a full round trip: tool call with the right name and JSON arguments, the result used in the reply", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Sofia")]], answerWith));
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Sofia?" },
    ];
    const first = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const calls = choice.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    const call = calls[0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.type).toBe("function");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Sofia" });
    // The model saw the caller's tools and nothing else, with their schema.
    expect(offeredToolNames(turns()[0]!.body).sort()).toEqual([
      `${CLIENT_TOOL_PREFIX}get_weather`,
      `${CLIENT_TOOL_PREFIX}local_time`,
    ]);

    messages.push(choice.message, { role: "tool", tool_call_id: call.id, content: "sunny, 21 C" });
    const second = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.choices[0]!.message.content).toBe("From the tools: sunny, 21 C");
    // The same job went on: the result reached the model under the API's id of the call.
    // The same job answers under the same id.
    expect(second.id).toBe(first.id);
    const sent = toolResultsOf(turns()[1]!.body);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.content).toBe("sunny, 21 C");
    expect(call.id).toContain(sent[0]!.toolUseId);
    expect(await world.job(jobIdOfCall(call.id))).toMatchObject({ status: "succeeded", caller: TESTER });

    // Sending the same results again: the job has ended; refused, naming why.
    const again = client.chat.completions.create({ model: "claude-haiku-4-5", messages, tools: chatTools });
    await expect(again).rejects.toMatchObject({ status: 400 });
  });

  it("streamed: parallel calls arrive as tool_call deltas, the streamed answer uses both results", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Varna"), timeIn("Varna")]], answerWith));
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather and time in Varna?" },
    ];
    const first = await client.chat.completions
      .stream({ model: "claude-haiku-4-5", messages, tools: chatTools })
      .finalChatCompletion();
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    const calls = (first.choices[0]!.message.tool_calls ??
      []) as OpenAI.Chat.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["get_weather", { city: "Varna" }],
      ["local_time", { city: "Varna" }],
    ]);
    messages.push(
      { role: "assistant", content: null, tool_calls: calls },
      // Answered in the other order: matched by id.
      { role: "tool", tool_call_id: calls[1]!.id, content: "09:30" },
      { role: "tool", tool_call_id: calls[0]!.id, content: "fog" },
    );
    const second = await client.chat.completions
      .stream({ model: "claude-haiku-4-5", messages, tools: chatTools })
      .finalChatCompletion();
    expect(second.choices[0]!.message.content).toBe("From the tools: fog; 09:30");
    expect(toolResultsOf(turns()[1]!.body).map((r) => r.content)).toEqual(["fog", "09:30"]);
  });

  it("tool_choice none: the model is offered no tool at all and answers in text", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Ruse")]], answerWith));
    const r = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "Weather in Ruse?" }],
      tools: chatTools,
      tool_choice: "none",
    });
    // The stub calls only what it was offered: here nothing.
    expect(r.choices[0]!.message.content).toBe("not offered: get_weather");
    expect(r.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(offeredToolNames(turns()[0]!.body)).toEqual([]);
  });

  it("refuses what the CLI cannot honour: a forced tool, a name it would change", async () => {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: "user", content: "x" }];
    await expect(
      client.chat.completions.create({
        model: "claude-haiku-4-5",
        messages,
        tools: chatTools,
        tool_choice: "required",
      }),
    ).rejects.toMatchObject({ status: 400, param: expect.stringContaining("tool_choice") });
    await expect(
      client.chat.completions.create({
        model: "claude-haiku-4-5",
        messages,
        tools: [{ type: "function", function: { name: "x".repeat(52), parameters: CITY } }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(turns()).toHaveLength(0);
  });

  it("a result for another caller's call, or for a call it never made, is refused; the job keeps waiting", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Pleven")]], answerWith));
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Pleven?" },
    ];
    const first = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    const call = first.choices[0]!.message
      .tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    const answered = [...messages, first.choices[0]!.message];

    const other = world.client(gateway, OTHER_TOKEN);
    await expect(
      other.chat.completions.create({
        model: "claude-haiku-4-5",
        messages: [...answered, { role: "tool", tool_call_id: call.id, content: "stolen" }],
        tools: chatTools,
      }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.chat.completions.create({
        model: "claude-haiku-4-5",
        messages: [...answered, { role: "tool", tool_call_id: "call_made_up", content: "x" }],
        tools: chatTools,
      }),
    ).rejects.toMatchObject({ status: 400 });
    // A result for a call of the job that it did not make: names the id.
    const forged = call.id.replace(/_[^_]+$/, "_toolu_forged");
    const wrong = client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [...answered, { role: "tool", tool_call_id: forged, content: "x" }],
      tools: chatTools,
    });
    await expect(wrong).rejects.toMatchObject({ status: 400 });
    await expect(wrong).rejects.toThrow(/toolu_forged/);

    const ok = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [...answered, { role: "tool", tool_call_id: call.id, content: "rain" }],
      tools: chatTools,
    });
    expect(ok.choices[0]!.message.content).toBe("From the tools: rain");
  });

  it("a client that never returns: its calls expire, the job fails, its process is reaped, a late result is refused", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Burgas")]], answerWith));
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Burgas?" },
    ];
    const first = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    const call = first.choices[0]!.message
      .tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    const jobId = jobIdOfCall(call.id);
    expect((await world.job(jobId)).toolCalls?.calls).toHaveLength(1);
    const job = await ended(jobId);
    expect(job).toMatchObject({ status: "failed", error: { reason: "tool_results_expired" } });
    await world.noCliLeft();
    const late = client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [
        ...messages,
        first.choices[0]!.message,
        { role: "tool", tool_call_id: call.id, content: "late" },
      ],
      tools: chatTools,
    });
    await expect(late).rejects.toMatchObject({ status: 400, code: "tool_calls_expired" });
  });
});

describe("the caller's in-flight slot", () => {
  it("stays with a job paused on tool calls, and comes back when the job ends — answered or expired", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Shumen")]], answerWith));
    const single = world.client(gateway, SINGLE_TOKEN);
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Shumen?" },
    ];
    const first = await single.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    const call = first.choices[0]!.message
      .tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    // The paused job holds the caller's one slot: no second job meanwhile.
    await expect(
      single.chat.completions.create({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ status: 429 });
    // Its results are not a new request in flight: they continue the job, which then gives the slot back.
    const done = await single.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [
        ...messages,
        first.choices[0]!.message,
        { role: "tool", tool_call_id: call.id, content: "mist" },
      ],
      tools: chatTools,
    });
    expect(done.choices[0]!.message.content).toBe("From the tools: mist");
    // Another job that pauses and is never answered: its expiry gives the slot back.
    const abandoned = await single.chat.completions.create({
      model: "claude-haiku-4-5",
      messages,
      tools: chatTools,
    });
    const jobId = jobIdOfCall(abandoned.choices[0]!.message.tool_calls![0]!.id);
    const job = await ended(jobId, "tok_single");
    expect(job.error?.reason).toBe("tool_results_expired");
    world.stub.setHandler(undefined);
    world.stub.setDefault(text("free again"));
    let next: OpenAI.Chat.ChatCompletion | undefined;
    // The executor gives the slot back right after recording the end.
    for (let i = 0; i < 50 && !next; i++) {
      next = await single.chat.completions
        .create({ model: "claude-haiku-4-5", messages: [{ role: "user", content: "x" }] })
        .catch(async (err: { status?: number }) => {
          if (err.status !== 429) throw err;
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
    }
    expect(next?.choices[0]?.message.content).toBe("free again");
  });
});

describe("Responses with the caller's tools", () => {
  const tools: OpenAI.Responses.FunctionTool[] = [
    {
      type: "function",
      name: "get_weather",
      description: "The weather in a city",
      parameters: CITY,
      strict: false,
    },
  ];

  it("function_call items out, function_call_output items back (with previous_response_id), a reply that used them", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Sofia")]], answerWith));
    const first = await client.responses.create({
      model: "claude-haiku-4-5",
      input: "Weather in Sofia?",
      tools,
    });
    const call = first.output.find(
      (o) => o.type === "function_call",
    ) as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: "function_call", name: "get_weather" });
    expect(JSON.parse(call.arguments)).toEqual({ city: "Sofia" });
    const second = await client.responses.create({
      model: "claude-haiku-4-5",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }],
      tools,
    });
    expect(second.output_text).toBe("From the tools: sunny");
  });

  it("streamed, the whole conversation sent back instead of previous_response_id", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Varna")]], answerWith));
    const input: OpenAI.Responses.ResponseInput = [{ role: "user", content: "Weather in Varna?" }];
    const first = await client.responses.stream({ model: "claude-haiku-4-5", input, tools }).finalResponse();
    const call = first.output.find(
      (o) => o.type === "function_call",
    ) as OpenAI.Responses.ResponseFunctionToolCall;
    expect(JSON.parse(call.arguments)).toEqual({ city: "Varna" });
    const second = await client.responses
      .stream({
        model: "claude-haiku-4-5",
        input: [...input, call, { type: "function_call_output", call_id: call.call_id, output: "fog" }],
        tools,
      })
      .finalResponse();
    expect(second.output_text).toBe("From the tools: fog");
  });
});

describe("Messages with the caller's tools", () => {
  const tools: Anthropic.Tool[] = [
    {
      name: "get_weather",
      description: "The weather in a city",
      input_schema: CITY as Anthropic.Tool.InputSchema,
    },
    { name: "local_time", description: "The local time", input_schema: CITY as Anthropic.Tool.InputSchema },
  ];

  it("tool_use blocks with stop_reason tool_use; tool_result blocks back; a reply that used them", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Sofia"), timeIn("Sofia")]], answerWith));
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather and time in Sofia?" }];
    const first = await anthropic.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages,
      tools,
    });
    expect(first.stop_reason).toBe("tool_use");
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ["get_weather", { city: "Sofia" }],
      ["local_time", { city: "Sofia" }],
    ]);
    const second = await anthropic.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      tools,
      messages: [
        ...messages,
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: uses[0]!.id, content: "sunny" },
            { type: "tool_result", tool_use_id: uses[1]!.id, content: "no clock", is_error: true },
          ],
        },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content).toEqual([
      { type: "text", text: "From the tools: sunny; no clock (error)", citations: null },
    ]);
  });

  it("streamed: the SDK assembles the tool_use blocks; the streamed reply uses the result", async () => {
    world.stub.setHandler(callingClientTools([[weatherIn("Ruse")]], answerWith));
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Ruse?" }];
    const first = await anthropic.messages
      .stream({ model: "claude-haiku-4-5", max_tokens: 1024, messages, tools })
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    expect(use.input).toEqual({ city: "Ruse" });
    const second = await anthropic.messages
      .stream({
        model: "claude-haiku-4-5",
        max_tokens: 1024,
        tools,
        messages: [
          ...messages,
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "snow" }] },
        ],
      })
      .finalMessage();
    expect(second.content.find((b) => b.type === "text")).toMatchObject({ text: "From the tools: snow" });
  });

  it("a later turn carrying the finished tool round is a new job whose prompt keeps that round", async () => {
    world.stub.setDefault(text("You asked about Sofia."));
    const r = await anthropic.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      tools,
      messages: [
        { role: "user", content: "Weather in Sofia?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "call_old", name: "get_weather", input: { city: "Sofia" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_old", content: "sunny" }] },
        { role: "assistant", content: "It is sunny." },
        { role: "user", content: "Which city did I ask about?" },
      ],
    });
    expect(r.content[0]).toMatchObject({ type: "text", text: "You asked about Sofia." });
    const prompt = JSON.stringify(turns()[0]!.body.messages);
    expect(prompt).toContain("get_weather");
    expect(prompt).toContain("sunny");
  });
});

/** The job once it is no longer running (its calls expire within the world's 10 s). */
async function ended(jobId: string, caller?: string) {
  let job = await world.job(jobId, caller);
  for (let i = 0; i < 600 && job.status === "running"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = await world.job(jobId, caller);
  }
  return job;
}

/** The job of a call id the gateway gave out (`call_<job id without dashes>_<API id>`). */
function jobIdOfCall(id: string): string {
  const hex = /^call_([0-9a-f]{32})_/.exec(id)![1]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
