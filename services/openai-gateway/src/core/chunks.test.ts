import type { JobEvent } from "@claude-gateway/contracts";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { CHAT_USAGE, failedJob, jobRecord } from "../test-support/records.js";
import { type ChatCompletionChunk, createChunker } from "./chunks.js";
import { JobTimedOutError } from "./errors.js";
import { clientCallId } from "./tools/call-id.js";

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const ctx = {
  id: "chatcmpl-1",
  created: 1_700_000_000,
  model: "claude-haiku-4-5",
  jobId: JOB,
  includeUsage: false,
};
let seq = 0;
const ev = (body: Record<string, unknown>) => ({ jobId: "oai-1", seq: seq++, at: "t", ...body }) as JobEvent;
const text = (delta: string) => ev({ type: "text", delta });
const toolUse = ev({ type: "tool_use", toolUseId: "t1", name: "Bash", input: {} });
const running = ev({ type: "status", status: "running" });

/** The content deltas and finish reasons, in order: what a client assembles. */
const shape = (chunks: ChatCompletionChunk[]) =>
  chunks.map((c) => {
    const choice = c.choices[0];
    if (!choice) return { usage: c.usage };
    if (choice.finish_reason) return { finish: choice.finish_reason };
    return choice.delta.role ? { role: choice.delta.role } : { content: choice.delta.content };
  });

function run(events: JobEvent[], job = jobRecord(), opts: { stop?: string[]; includeUsage?: boolean } = {}) {
  const chunker = createChunker({ ...ctx, includeUsage: opts.includeUsage ?? false }, opts.stop);
  const live = events.flatMap((e) => chunker.push(e));
  return { live, end: chunker.finish(job), chunker };
}

describe("createChunker", () => {
  it("sends the role first, each delta as it comes, then finish_reason", () => {
    const { live, end } = run([running, text("Hello"), text(" there.")]);
    expect(shape([...live, ...end])).toEqual([
      { role: "assistant" },
      { content: "Hello" },
      { content: " there." },
      { finish: "stop" },
    ]);
    const first: OpenAI.ChatCompletionChunk = live[0]!;
    expect(first).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "claude-haiku-4-5",
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
    });
  });

  it("adds usage: null to every chunk and a final usage chunk when asked", () => {
    const { live, end } = run([text("Hello there.")], jobRecord(), { includeUsage: true });
    const all = [...live, ...end];
    expect(all.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(all.at(-1)).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "claude-haiku-4-5",
      choices: [],
      usage: CHAT_USAGE,
    });
  });

  it.each<[string, JobEvent[], string, { stop?: string[] }, unknown[]]>([
    [
      "ignores status, result and empty deltas",
      [
        running,
        text(""),
        ev({ type: "result", text: "x", sessionId: "s", costUsd: 0, usage: jobRecord().usage }),
      ],
      "",
      {},
      [{ role: "assistant" }, { finish: "stop" }],
    ],
    [
      "separates the agent's turns around tool use",
      [
        text("Let me look."),
        toolUse,
        ev({ type: "tool_result", toolUseId: "t1", isError: false, content: "ok" }),
        text("Done."),
      ],
      "Done.",
      {},
      [{ role: "assistant" }, { content: "Let me look." }, { content: "\n\nDone." }, { finish: "stop" }],
    ],
    [
      "no separator when tools come first",
      [toolUse, text("Done.")],
      "Done.",
      {},
      [{ role: "assistant" }, { content: "Done." }, { finish: "stop" }],
    ],
    [
      "sends the part of the answer whose events were lost",
      [text("Hello")],
      "Hello there.",
      {},
      [{ role: "assistant" }, { content: "Hello" }, { content: " there." }, { finish: "stop" }],
    ],
    [
      "sends the whole answer when no event arrived",
      [],
      "Hello there.",
      {},
      [{ role: "assistant" }, { content: "Hello there." }, { finish: "stop" }],
    ],
    [
      "cuts at a stop sequence split across deltas and sends nothing after it",
      [text("Hello EN"), text("D more")],
      "Hello END more",
      { stop: ["END"] },
      [{ role: "assistant" }, { content: "Hello " }, { finish: "stop" }],
    ],
    [
      "releases text held for a stop sequence that never came",
      [text("Hello E")],
      "Hello E",
      { stop: ["END"] },
      [{ role: "assistant" }, { content: "Hello " }, { content: "E" }, { finish: "stop" }],
    ],
  ])("%s", (_name, events, answer, opts, expected) => {
    const job = jobRecord({ result: { text: answer, sessionId: "s", numTurns: 1, permissionDenials: 0 } });
    const { live, end } = run(events, job, opts);
    expect(shape([...live, ...end])).toEqual(expected);
  });

  it("knows when content was produced, and open() sends the role once", () => {
    const chunker = createChunker(ctx);
    expect(chunker.hasContent).toBe(false);
    expect(shape(chunker.open())).toEqual([{ role: "assistant" }]);
    expect(chunker.open()).toEqual([]);
    expect(shape(chunker.push(text("x")))).toEqual([{ content: "x" }]);
    expect(chunker.hasContent).toBe(true);
  });

  it("a job that did not succeed throws the client's error at the end", () => {
    const chunker = createChunker(ctx);
    chunker.push(text("partial"));
    expect(() => chunker.finish(failedJob("timed_out", "timeout"))).toThrow(JobTimedOutError);
  });
});

describe("createChunker with a schema (structured output)", () => {
  const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
  const structured = jobRecord({
    result: {
      text: '{"city":"Sofia"}',
      sessionId: "s",
      numTurns: 2,
      permissionDenials: 0,
      structuredOutput: { city: "Sofia" },
    },
  });

  it("sends no prose on the way, then the object whole, then finish_reason and usage", () => {
    const chunker = createChunker({ ...ctx, includeUsage: true, schema });
    const live = [running, text("Let me answer "), toolUse, text("in JSON.")].flatMap((e) => chunker.push(e));
    expect(live).toEqual([]);
    expect(chunker.hasContent).toBe(false);
    expect(shape(chunker.finish(structured))).toEqual([
      { role: "assistant" },
      { content: '{"city":"Sofia"}' },
      { finish: "stop" },
      { usage: CHAT_USAGE },
    ]);
  });

  it("throws when the job gave prose instead of the object", () => {
    const chunker = createChunker({ ...ctx, includeUsage: false, schema });
    expect(() => chunker.finish(jobRecord())).toThrow(/without the structured output/);
  });
});

describe("createChunker when the job pauses on the caller's tools", () => {
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const toolCalls = (said: string) => ev({ type: "tool_calls", calls, text: said, expiresAt: "t" });
  const tools = (chunks: ChatCompletionChunk[]) =>
    chunks.map((c) => {
      const choice = c.choices[0];
      if (choice?.delta.tool_calls) return { calls: choice.delta.tool_calls.map((t) => t.function.name) };
      if (!choice) return { usage: c.usage };
      if (choice.finish_reason) return { finish: choice.finish_reason };
      return choice.delta.role ? { role: choice.delta.role } : { content: choice.delta.content };
    });

  it("ends with a chunk per call, then finish_reason tool_calls", () => {
    const chunker = createChunker(ctx);
    const live = [running, text("Let me check.")].flatMap((e) => chunker.push(e));
    const end = chunker.push(toolCalls("Let me check."));
    expect(tools([...live, ...end])).toEqual([
      { role: "assistant" },
      { content: "Let me check." },
      { calls: ["get_weather"] },
      { calls: ["get_time"] },
      { finish: "tool_calls" },
    ]);
    const first: OpenAI.ChatCompletionChunk = end[0]!;
    expect(first).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "claude-haiku-4-5",
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              {
                index: 0,
                id: clientCallId(JOB, "toolu_01"),
                type: "function",
                function: { name: "get_weather", arguments: '{"city":"Sofia"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: null,
        },
      ],
    });
    expect(end[1]?.choices[0]?.delta.tool_calls?.[0]).toMatchObject({
      index: 1,
      id: clientCallId(JOB, "toolu_02"),
      function: { arguments: "{}" },
    });
    expect(end.at(-1)?.choices[0]).toEqual({
      index: 0,
      delta: {},
      logprobs: null,
      finish_reason: "tool_calls",
    });
  });

  it("sends the role first when the calls are all there is, and counts them as content", () => {
    const chunker = createChunker(ctx);
    expect(chunker.push(running)).toEqual([]);
    const out = chunker.push(toolCalls(""));
    expect(tools(out)).toEqual([
      { role: "assistant" },
      { calls: ["get_weather"] },
      { calls: ["get_time"] },
      { finish: "tool_calls" },
    ]);
    expect(chunker.hasContent).toBe(true);
  });

  it("sends the message's text that did not arrive as events, and text held back for a stop sequence", () => {
    const missed = createChunker(ctx);
    missed.push(text("Let me"));
    expect(tools(missed.push(toolCalls("Let me check."))).slice(0, 1)).toEqual([{ content: " check." }]);

    const held = createChunker(ctx, ["END"]);
    expect(tools(held.push(text("Checking E")))).toEqual([{ role: "assistant" }, { content: "Checking " }]);
    expect(tools(held.push(toolCalls("Checking E"))).slice(0, 1)).toEqual([{ content: "E" }]);
  });

  it("ends with zero usage when asked for usage: the job goes on", () => {
    const chunker = createChunker({ ...ctx, includeUsage: true });
    const out = chunker.push(toolCalls(""));
    expect(out.at(-1)).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "claude-haiku-4-5",
      choices: [],
      usage: {
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(out.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("is assembled by the openai SDK's stream helper into the calls", async () => {
    const chunker = createChunker(ctx);
    const chunks = [
      ...[running, text("Let me "), text("check.")].flatMap((e) => chunker.push(e)),
      ...chunker.push(toolCalls("Let me check.")),
    ];
    const body = [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"].join("");
    const client = new OpenAI({
      apiKey: "k",
      baseURL: "http://gateway.test/v1",
      fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
    });
    const completion = await client.chat.completions
      .stream({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: "Weather and time in Sofia?" }],
        tools: [
          { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
          { type: "function", function: { name: "get_time" } },
        ],
      })
      .finalChatCompletion();
    expect(completion.choices[0]).toMatchObject({
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: "Let me check.",
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
    });
  });
});
