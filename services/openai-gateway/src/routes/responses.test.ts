import { jobIdFor, subjects } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { clientCallId } from "../core/tools/call-id.js";
import { type FakeExecutor, USAGE } from "../test-support/fake-executor.js";
import { openPolicy, TEST_NOW, TEST_TOKEN, TESTER, testApp } from "../test-support/test-app.js";

// `POST /v1/responses` and `GET /v1/responses/{id}` through the app, on a fake executor that checks
// every submission against the job contract.

const TOKEN = TEST_TOKEN;
const OTHER_TOKEN = "other-token-0123456789";
const NOW = TEST_NOW;
const CREATED = Math.floor(NOW.getTime() / 1000);
/** The uuids `newId` hands out, in order, and the session ids of the jobs that answer. */
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const session = (n: number) => `5e551011-0000-4000-8000-${String(n).padStart(12, "0")}`;
const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

function setup(opts: { holdMs?: number; idleMs?: number } = {}) {
  const { app, executor } = testApp({
    ...opts,
    auth: {
      tokens: [
        { name: "tester", token: TOKEN },
        { name: "other", token: OTHER_TOKEN },
      ],
    },
    policy: openPolicy(["tester", "other"]),
    now: NOW,
    newId: uuid,
  });
  const headers = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...extra,
  });
  const post = (body: unknown, init: { token?: string; headers?: Record<string, string> } = {}) =>
    app.request("/v1/responses", {
      method: "POST",
      headers: headers(init.token ?? TOKEN, init.headers),
      body: JSON.stringify(body),
    });
  const get = (id: string, token = TOKEN) => app.request(`/v1/responses/${id}`, { headers: headers(token) });
  return { app, executor, post, get };
}

const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

/** Every job answers `deltas` and records session `session(k)` for the k-th job. */
function answer(executor: FakeExecutor, deltas: string[] = ["Hello", " there."]) {
  let k = 0;
  executor.onSubmit = (job) => {
    const sessionId = session(++k);
    executor.emit(job.id, { type: "status", status: "running" });
    for (const delta of deltas) executor.emit(job.id, { type: "text", delta });
    executor.finish(job.id, {
      status: "succeeded",
      result: { text: deltas.join(""), sessionId, numTurns: 1, permissionDenials: 0 },
      usage: USAGE,
      costUsd: 0.01,
      finishedAt: NOW.toISOString(),
    });
  };
}

/** The events of an SSE body: `event:` names and parsed `data:`, and the comment lines. */
async function sse(
  res: Response,
): Promise<{ events: Array<{ event: string; data: Json }>; comments: string[] }> {
  const events: Array<{ event: string; data: Json }> = [];
  const comments: string[] = [];
  for (const block of (await res.text()).split("\n\n")) {
    let event = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) events.push({ event, data: JSON.parse(line.slice(6)) as Json });
      else if (line.startsWith(":")) comments.push(line);
    }
  }
  return { events, comments };
}

describe("POST /v1/responses", () => {
  it("runs one job in a new session and answers with the Response", async () => {
    const { executor, post } = setup();
    answer(executor);
    const res = await post({
      model: "claude-haiku-4-5",
      input: "Hi",
      instructions: "Be brief.",
      metadata: { t: "1" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-job-id")).toBe(jobIdFor(TESTER, `resp-${uuid(1)}`));
    expect(executor.submissions).toEqual([
      expect.objectContaining({
        id: `resp-${uuid(1)}`,
        agent: "assistant",
        model: "claude-haiku-4-5",
        prompt:
          "Answer the request below, following the instructions.\n\n<instructions>\nBe brief.\n</instructions>\n\n<request>\nHi\n</request>",
        session: { kind: "new" },
        caller: TESTER,
      }),
    ]);
    const body = await json(res);
    expect(body).toMatchObject({
      id: `resp_${uuid(1)}`,
      object: "response",
      created_at: CREATED,
      completed_at: CREATED,
      status: "completed",
      model: "claude-haiku-4-5",
      instructions: "Be brief.",
      metadata: { t: "1" },
      previous_response_id: null,
      error: null,
      incomplete_details: null,
      text: { format: { type: "text" } },
      output: [
        {
          id: "msg_00000000000040008000000000000001",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello there.", annotations: [] }],
        },
      ],
      usage: {
        input_tokens: 130,
        input_tokens_details: { cached_tokens: 100 },
        output_tokens: 5,
        total_tokens: 135,
      },
    });
  });

  it("store: false keeps no session (the job may take a prewarmed CLI)", async () => {
    const { executor, post } = setup();
    answer(executor);
    expect((await post({ input: "Hi", store: false })).status).toBe(200);
    expect(executor.submissions[0]?.session).toBeUndefined();
  });

  it("the agent: metadata.agent or the X-Claude-Agent header", async () => {
    const { executor, post } = setup();
    answer(executor);
    await post({ input: "Hi", metadata: { agent: "general" } });
    await post({ input: "Hi" }, { headers: { "x-claude-agent": "general" } });
    expect(executor.submissions.map((s) => s.agent)).toEqual(["general", "general"]);
    const clash = await post(
      { input: "Hi", metadata: { agent: "general" } },
      { headers: { "x-claude-agent": "assistant" } },
    );
    expect(clash.status).toBe(400);
  });

  it("an unknown field is a 400 naming it, and nothing runs", async () => {
    const { executor, post } = setup();
    const res = await post({ input: "Hi", frobnicate: true });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      error: {
        message: "Unknown parameter: 'frobnicate'.",
        type: "invalid_request_error",
        param: "frobnicate",
        code: "unknown_parameter",
      },
    });
    expect(executor.submissions).toEqual([]);
  });

  it("text.format json_schema: the job gets the schema, the answer is the structured output", async () => {
    const { executor, post } = setup();
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    executor.onSubmit = (job) =>
      executor.finish(job.id, {
        status: "succeeded",
        result: {
          text: '{"city":"Sofia"}',
          sessionId: session(1),
          numTurns: 1,
          permissionDenials: 0,
          structuredOutput: { city: "Sofia" },
        },
        usage: USAGE,
      });
    const res = await post({
      input: "Capital of Bulgaria?",
      text: { format: { type: "json_schema", name: "city", schema } },
    });
    expect(executor.submissions[0]?.jsonSchema).toEqual(schema);
    expect(await json(res)).toMatchObject({
      text: { format: { type: "json_schema", name: "city", schema } },
      output: [{ content: [{ text: '{"city":"Sofia"}' }] }],
    });
  });

  it("json_object asks for any object; an invalid schema is a 400 before any job", async () => {
    const { executor, post } = setup();
    answer(executor, ["{}"]);
    const jsonMode = await post({ input: "JSON please", text: { format: { type: "json_object" } } });
    expect(executor.submissions[0]?.jsonSchema).toEqual({ type: "object" });
    expect(jsonMode.status).toBe(500); // the fake's job has no structured output: never its prose
    const bad = await post({
      input: "x",
      text: { format: { type: "json_schema", name: "n", schema: { type: "object", required: "city" } } },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatchObject({
      param: "text.format.schema",
      code: "invalid_json_schema",
    });
    expect(executor.submissions).toHaveLength(1);
  });

  it("images: data URLs go to the job in order, [image N] in the prompt; remote URLs are refused", async () => {
    const { executor, post } = setup();
    answer(executor);
    const image = { type: "input_image", image_url: `data:image/png;base64,${PNG_B64}` };
    await post({
      input: [{ role: "user", content: [{ type: "input_text", text: "What is this?" }, image] }],
    });
    expect(executor.submissions[0]).toMatchObject({
      prompt: "What is this?\n[image 1]",
      images: [{ mediaType: "image/png", data: PNG_B64 }],
    });
    const remote = await post({
      input: [{ role: "user", content: [{ type: "input_image", image_url: "https://example.com/cat.png" }] }],
    });
    expect(remote.status).toBe(400);
    expect((await json(remote)).error).toMatchObject({
      param: "input[0].content[0].image_url",
      code: "image_url_not_allowed",
    });
    expect(executor.submissions).toHaveLength(1);
  });
});

describe("previous_response_id", () => {
  it("continues a fork of the earlier response's session, with its agent", async () => {
    const { executor, post } = setup();
    answer(executor);
    const first = await json(await post({ input: "My name is Ada.", metadata: { agent: "general" } }));
    const res = await post({ input: "What is my name?", previous_response_id: first.id });
    expect(res.status).toBe(200);
    expect(executor.submissions[1]).toMatchObject({
      prompt: "What is my name?",
      agent: "general",
      session: { kind: "resume", id: session(1), fork: true },
    });
    expect(await json(res)).toMatchObject({ id: `resp_${uuid(2)}`, previous_response_id: first.id });
    // A branch: the first response can be continued again, from the same point.
    await post({
      input: "And my surname?",
      previous_response_id: first.id,
      metadata: { agent: "assistant" },
    });
    expect(executor.submissions[2]).toMatchObject({
      agent: "assistant",
      session: { kind: "resume", id: session(1), fork: true },
    });
  });

  it.each([
    ["an id of no response", "resp_nope"],
    ["an unknown response", `resp_${uuid(99)}`],
  ])("refuses %s with a 400 naming it; nothing runs", async (_, id) => {
    const { executor, post } = setup();
    const res = await post({ input: "x", previous_response_id: id });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      error: {
        message: `Previous response with id '${id}' not found.`,
        type: "invalid_request_error",
        param: "previous_response_id",
        code: "previous_response_not_found",
      },
    });
    expect(executor.submissions).toEqual([]);
  });

  it("another caller's response is not found; so is one stored with store: false", async () => {
    const { executor, post } = setup();
    answer(executor);
    const theirs = await json(await post({ input: "secret" }, { token: OTHER_TOKEN }));
    const foreign = await post({ input: "x", previous_response_id: theirs.id });
    expect(foreign.status).toBe(400);
    expect((await json(foreign)).error.code).toBe("previous_response_not_found");
    const unstored = await json(await post({ input: "x", store: false }));
    const res = await post({ input: "x", previous_response_id: unstored.id });
    expect((await json(res)).error.code).toBe("previous_response_not_found");
    expect(executor.submissions).toHaveLength(2);
  });

  it("one still running, or one that failed, cannot be continued", async () => {
    const { executor, post } = setup({ holdMs: 10 });
    executor.onSubmit = (job) => executor.emit(job.id, { type: "status", status: "running" });
    // A stream opens after holdMs: its job is submitted and still going.
    const started = await post({ input: "slow", stream: true });
    const id = `resp_${uuid(1)}`;
    const res = await post({ input: "x", previous_response_id: id });
    expect((await json(res)).error).toMatchObject({
      code: "previous_response_in_progress",
      param: "previous_response_id",
    });
    const jobId = jobIdFor(TESTER, `resp-${uuid(1)}`);
    executor.finish(jobId, { status: "failed", error: { reason: "upstream_error", message: "boom" } });
    await started.text();
    const after = await post({ input: "x", previous_response_id: id });
    expect((await json(after)).error).toMatchObject({
      code: "previous_response_failed",
      param: "previous_response_id",
    });
  });

  it("a session the executor no longer has is a 400 naming previous_response_id", async () => {
    const { executor, post } = setup();
    answer(executor);
    const first = await json(await post({ input: "Hi" }));
    executor.submitError = new RemoteServiceError(
      subjects.jobs.serve.admit,
      404,
      "session_not_found",
      "no session",
    );
    const res = await post({ input: "x", previous_response_id: first.id });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({
      param: "previous_response_id",
      code: "previous_response_not_found",
      message: `The conversation of previous response '${first.id}' is no longer available.`,
    });
  });
});

describe("POST /v1/responses with stream: true", () => {
  it("sends the Responses events, named on their event: lines, numbered in order", async () => {
    const { executor, post } = setup();
    answer(executor, ["Hel", "lo", "!"]);
    const res = await post({ input: "Hi", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { events } = await sse(res);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.slice(4, 7).map((e) => e.data.delta)).toEqual(["Hel", "lo", "!"]);
    expect(events.at(-1)?.data.response).toMatchObject({
      id: `resp_${uuid(1)}`,
      status: "completed",
      output: [{ content: [{ text: "Hello!" }] }],
      usage: { total_tokens: 135 },
    });
    expect(executor.subscribers()).toBe(0);
  });

  it("a job that fails before any text gets a real HTTP status", async () => {
    const { executor, post } = setup();
    executor.onSubmit = (job) =>
      executor.finish(job.id, {
        status: "failed",
        error: { reason: "claude_not_authenticated", message: "Not logged in" },
      });
    const res = await post({ input: "Hi", stream: true });
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe("claude_not_authenticated");
  });

  it("a failure after some text: response.failed, then an error event", async () => {
    const { executor, post } = setup();
    executor.onSubmit = (job) => {
      executor.emit(job.id, { type: "text", delta: "Partial" });
      executor.finish(job.id, {
        status: "failed",
        error: { reason: "upstream_error", message: "API Error: 500" },
      });
    };
    const { events } = await sse(await post({ input: "Hi", stream: true }));
    expect(events.map((e) => e.event).slice(-3)).toEqual([
      "response.output_text.delta",
      "response.failed",
      "error",
    ]);
    expect(events.at(-2)?.data.response).toMatchObject({
      status: "failed",
      error: { code: "server_error", message: "The request failed (upstream_error): API Error: 500" },
      output: [{ status: "incomplete", content: [{ text: "Partial" }] }],
    });
    expect(events.at(-1)?.data).toMatchObject({
      type: "error",
      code: "upstream_error",
      error: { type: "api_error", code: "upstream_error" },
    });
  });

  it("opens after holdMs without text, and sends keep-alive comments while the job is quiet", async () => {
    const { executor, post } = setup({ holdMs: 10, idleMs: 20 });
    let jobId = "";
    executor.onSubmit = (job) => {
      jobId = job.id;
    };
    const res = await post({ input: "Hi", stream: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes(": keep-alive")) text += decoder.decode((await reader.read()).value);
    expect(text).toContain("event: response.created");
    executor.succeed(jobId, ["late"]);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value);
    }
    expect(text).toContain('"delta":"late"');
    expect(text).toContain("event: response.completed");
  });
});

describe("GET /v1/responses/{id}", () => {
  it("reads a stored response back from its job", async () => {
    const { executor, post, get } = setup();
    answer(executor);
    const created = await json(await post({ model: "claude-haiku-4-5", input: "Hi" }));
    const res = await get(created.id);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: created.id,
      object: "response",
      status: "completed",
      model: "claude-haiku-4-5",
      output: created.output,
      usage: created.usage,
    });
  });

  it.each([
    ["an id of no response", "nope"],
    ["an unknown response", `resp_${uuid(42)}`],
  ])("%s is a 404", async (_, id) => {
    const { get } = setup();
    const res = await get(id);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: {
        message: `Response with id '${id}' not found.`,
        type: "invalid_request_error",
        param: null,
        code: "response_not_found",
      },
    });
  });

  it("another caller's response and a store: false one are 404s", async () => {
    const { executor, post, get } = setup();
    answer(executor);
    const theirs = await json(await post({ input: "secret" }, { token: OTHER_TOKEN }));
    expect((await get(theirs.id)).status).toBe(404);
    expect((await get(theirs.id, OTHER_TOKEN)).status).toBe(200);
    const unstored = await json(await post({ input: "x", store: false }));
    expect((await get(unstored.id)).status).toBe(404);
  });

  it("needs credentials", async () => {
    const { app } = setup();
    expect((await app.request(`/v1/responses/resp_${uuid(1)}`)).status).toBe(401);
  });
});

describe("POST /v1/responses: client tools", () => {
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const weather = { type: "function", name: "get_weather", parameters: { type: "object" }, strict: false };
  const clock = {
    type: "function",
    name: "get_time",
    description: "The time.",
    parameters: null,
    strict: null,
  };
  const JOB = jobIdFor(TESTER, `resp-${uuid(1)}`);

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

  it("offers the tools and completes with the calls the job pauses on; their outputs continue it", async () => {
    const { executor, post } = setup();
    pauseThenAnswer(executor);
    const res = await post({ input: "Weather and time in Sofia?", tools: [weather, clock] });
    expect(res.status).toBe(200);
    expect(executor.submissions[0]?.tools).toEqual([
      { name: "get_weather", inputSchema: { type: "object" } },
      { name: "get_time", description: "The time.", inputSchema: { type: "object", properties: {} } },
    ]);
    const body = await json(res);
    expect(body).toMatchObject({
      id: `resp_${uuid(1)}`,
      status: "completed",
      tool_choice: "auto",
      tools: [
        {
          type: "function",
          name: "get_weather",
          description: null,
          parameters: { type: "object" },
          strict: false,
        },
        { type: "function", name: "get_time", description: "The time.", parameters: null, strict: false },
      ],
      output_text: "Let me check.",
      output: [
        { type: "message", content: [{ text: "Let me check." }] },
        {
          type: "function_call",
          id: "fc_toolu_01",
          call_id: clientCallId(JOB, "toolu_01"),
          name: "get_weather",
          arguments: '{"city":"Sofia"}',
          status: "completed",
        },
        { type: "function_call", call_id: clientCallId(JOB, "toolu_02"), name: "get_time", arguments: "{}" },
      ],
    });

    // The client runs the tools and sends their outputs (after the previous response, as SDKs do).
    const next = await post({
      previous_response_id: body.id,
      input: [
        { type: "function_call_output", call_id: clientCallId(JOB, "toolu_01"), output: "12°C" },
        { type: "function_call_output", call_id: clientCallId(JOB, "toolu_02"), output: "09:00" },
      ],
      tools: [weather, clock],
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
    expect(await json(next)).toMatchObject({ status: "completed", output_text: "12°C at 09:00." });
  });

  it("works as the openai SDK's tool loop, streamed: the output passed back, then the outputs", async () => {
    const { app, executor } = setup();
    pauseThenAnswer(executor);
    const client = new OpenAI({
      apiKey: TOKEN,
      baseURL: "http://gateway.test/v1",
      maxRetries: 0,
      fetch: async (url, init) => app.request(String(url), init as RequestInit),
    });
    const input: OpenAI.Responses.ResponseInput = [{ role: "user", content: "Weather and time in Sofia?" }];
    const functionTools = [weather, { ...clock, strict: false }] as OpenAI.Responses.FunctionTool[];
    const first = await client.responses
      .stream({ model: "claude-haiku-4-5", input, tools: functionTools })
      .finalResponse();
    const calls = first.output.filter((item) => item.type === "function_call");
    expect(calls.map((c) => c.call_id)).toEqual([
      clientCallId(JOB, "toolu_01"),
      clientCallId(JOB, "toolu_02"),
    ]);
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]));
    for (const call of calls) {
      input.push({
        type: "function_call_output",
        call_id: call.call_id,
        output: call.name === "get_weather" ? "12°C" : "09:00",
      });
    }
    const second = await client.responses.create({ model: "claude-haiku-4-5", input, tools: functionTools });
    expect(second.output_text).toBe("12°C at 09:00.");
    expect(executor.toolResults).toEqual([
      {
        id: JOB,
        results: [
          { id: "toolu_01", content: "12°C" },
          { id: "toolu_02", content: "09:00" },
        ],
      },
    ]);
  });

  it("streams the calls as function_call items and completes with them", async () => {
    const { executor, post } = setup();
    pauseThenAnswer(executor);
    const res = await post({ input: "Weather and time in Sofia?", tools: [weather, clock], stream: true });
    expect(res.status).toBe(200);
    const { events } = await sse(res);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      ...[1, 2].flatMap(() => [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
      ]),
      "response.completed",
    ]);
    expect(events.at(-1)?.data).toMatchObject({
      response: {
        status: "completed",
        output: [
          { type: "message" },
          { type: "function_call", call_id: clientCallId(JOB, "toolu_01") },
          { type: "function_call", call_id: clientCallId(JOB, "toolu_02") },
        ],
      },
    });
  });

  it("renders earlier calls and outputs into a new job's prompt", async () => {
    const { executor, post } = setup();
    answer(executor);
    const res = await post({
      input: [
        { role: "user", content: "Weather in Sofia?" },
        { type: "function_call", call_id: "call_x", name: "get_weather", arguments: '{"city":"Sofia"}' },
        { type: "function_call_output", call_id: "call_x", output: "12°C" },
        { role: "assistant", content: "It is 12°C." },
        { role: "user", content: "Thanks!" },
      ],
      tools: [weather],
    });
    expect(res.status).toBe(200);
    const prompt = executor.submissions[0]?.prompt ?? "";
    expect(prompt).toContain('<assistant>\n[called get_weather {"city":"Sofia"}]\n</assistant>');
    expect(prompt).toContain("<tool>\n[get_weather result: 12°C]\n</tool>");
    expect(prompt).toMatch(/<request>\nThanks!\n<\/request>$/);
  });

  it("refuses outputs of calls it did not make, before the executor is asked", async () => {
    const { executor, post } = setup();
    const res = await post({ input: [{ type: "function_call_output", call_id: "call_x", output: "12°C" }] });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toEqual({
      type: "invalid_request_error",
      code: "invalid_tool_call_id",
      param: "input[0].call_id",
      message:
        "'call_x' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
    });
    expect(executor.submissions).toEqual([]);
    expect(executor.toolResults).toEqual([]);
  });

  it("refuses a built-in tool, naming it", async () => {
    const { executor, post } = setup();
    const res = await post({ input: "x", tools: [{ type: "web_search" }] });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ param: "tools[0].type", code: "unsupported_parameter" });
    expect(executor.submissions).toEqual([]);
  });
});
