import Anthropic from "@anthropic-ai/sdk";
import { jobIdFor } from "@claude-gateway/contracts";
import type { CallerPolicyFile } from "@claude-gateway/policy";
import { describe, expect, it } from "vitest";
import { imageResolver } from "../adapters/image-fetch.js";
import { clientCallId } from "../core/tools/call-id.js";
import type { FakeExecutor } from "../test-support/fake-executor.js";
import { openPolicy, TEST_TOKEN, TESTER, testApp } from "../test-support/test-app.js";

// `POST /v1/messages` through the app, against the fake executor: what is submitted, what the
// client gets, and the route's error statuses. The SDK against the real stack: test/messages.test.ts.

const TOKEN = TEST_TOKEN;
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const OPEN_POLICY: CallerPolicyFile = openPolicy();

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

/** Serves one PNG at https://img.test/dot.png, nothing else. */
const imageHost: typeof fetch = async (input) =>
  String(input) === "https://img.test/dot.png"
    ? new Response(Buffer.from(PNG, "base64"), { headers: { "content-type": "image/png" } })
    : new Response("no", { status: 404 });

function setup(opts: { policy?: CallerPolicyFile; holdMs?: number; idleMs?: number } = {}) {
  const { app, executor } = testApp({
    ...opts,
    apiKeyHeader: "x-api-key",
    newId: (n) => `0000000${n}-aaaa-4bbb-8ccc-dddddddddddd`,
    images: imageResolver({ allowlist: ["img.test"], fetch: imageHost }),
  });
  const post = (body: unknown, headers: Record<string, string> = {}, path = "/v1/messages") =>
    app.request(path, {
      method: "POST",
      // `x-api-key` unless the test sends its own credential.
      headers: {
        ...(headers.authorization ? {} : { "x-api-key": TOKEN }),
        "content-type": "application/json",
        ...headers,
      },
      body: JSON.stringify(body),
    });
  return { app, executor, post };
}

const ask = (extra: Json = {}) => ({
  model: "claude-haiku-4-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

/** Scripts every submitted job. */
function script(executor: FakeExecutor, run: (id: string) => void) {
  executor.onSubmit = (job) => run(job.id);
}

/** The SSE events of a body: each `event:` name with its parsed `data:`. */
async function events(res: Response): Promise<Array<{ event: string; data: Json }>> {
  const out: Array<{ event: string; data: Json }> = [];
  for (const block of (await res.text()).split("\n\n")) {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (event !== undefined && data !== undefined) out.push({ event, data: JSON.parse(data) as Json });
  }
  return out;
}

const MSG_ID = "msg_00000001aaaa4bbb8cccdddddddddddd";

describe("POST /v1/messages", () => {
  it("answers a Message and submits one job: the prompt, the default agent, msg-<uuid> as its id", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["Hello", " there."]));
    const res = await post(ask({ system: "Be brief.", temperature: 0.3, metadata: { user_id: "u1" } }));
    expect(res.status).toBe(200);
    const clientId = "msg-00000001-aaaa-4bbb-8ccc-dddddddddddd";
    expect(res.headers.get("x-job-id")).toBe(jobIdFor(TESTER, clientId));
    expect(await res.json()).toEqual({
      id: MSG_ID,
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
    expect(executor.submissions).toEqual([
      expect.objectContaining({
        id: clientId,
        agent: "assistant",
        model: "claude-haiku-4-5",
        prompt:
          "Answer the request below, following the instructions.\n\n<instructions>\nBe brief.\n</instructions>\n\n<request>\nHi\n</request>",
        caller: TESTER,
      }),
    ]);
    expect(executor.submissions[0]).not.toHaveProperty("images");
    expect(executor.submissions[0]).not.toHaveProperty("jsonSchema");
  });

  it("takes the agent from x-claude-agent, and the bearer token as well as x-api-key", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    const res = await post(ask(), { authorization: `Bearer ${TOKEN}`, "x-claude-agent": "general" });
    expect(res.status).toBe(200);
    expect(executor.submissions[0]?.agent).toBe("general");
  });

  it("hands images to the job in order, with placeholders where they were", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["A dot."]));
    const res = await post(
      ask({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Compare" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              { type: "image", source: { type: "base64", media_type: "image/jpeg", data: PNG } },
            ],
          },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(executor.submissions[0]).toMatchObject({
      prompt: "Compare\n[image 1]\n[image 2]",
      images: [
        { mediaType: "image/png", data: PNG },
        { mediaType: "image/jpeg", data: PNG },
      ],
    });
  });

  it("fetches an image URL from an allowlisted host; any other is a 400 naming where it is", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["A dot."]));
    const url = (href: string) =>
      ask({ messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: href } }] }] });
    expect((await post(url("https://img.test/dot.png"))).status).toBe(200);
    expect(executor.submissions[0]).toMatchObject({
      prompt: "[image 1]",
      images: [{ mediaType: "image/png", data: PNG }],
    });
    const res = await post(url("https://elsewhere.test/dot.png"));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({
      type: "invalid_request_error",
      code: "image_url_not_allowed",
      message: expect.stringMatching(
        /^messages\.0\.content\.0\.source: Image URLs are fetched only from allowed hosts/,
      ),
    });
    expect(executor.submissions).toHaveLength(1);
  });

  it("structured output: the schema goes to the job, the answer is its object as JSON", async () => {
    const { executor, post } = setup();
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    script(executor, (id) => {
      executor.emit(id, { type: "text", delta: "Thinking aloud." });
      executor.finish(id, {
        status: "succeeded",
        result: {
          text: '{"city":"Sofia"}',
          structuredOutput: { city: "Sofia" },
          sessionId: "s",
          numTurns: 2,
          permissionDenials: 0,
        },
      });
    });
    for (const stream of [false, true]) {
      // A stop sequence that occurs in the object does not cut it (it would no longer be JSON).
      const res = await post(
        ask({
          stream,
          stop_sequences: ["Sofia"],
          output_config: { format: { type: "json_schema", schema } },
        }),
      );
      expect(res.status).toBe(200);
      const text = stream
        ? (await events(res))
            .filter((e) => e.event === "content_block_delta")
            .map((e) => e.data.delta.text)
            .join("")
        : ((await res.json()) as Json).content[0].text;
      expect(JSON.parse(text)).toEqual({ city: "Sofia" });
    }
    expect(executor.submissions.map((s) => s.jsonSchema)).toEqual([schema, schema]);
  });

  it("a stop sequence cuts the answer: stop_reason stop_sequence and which one", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["one, two, ", "three"]));
    const body = (await (await post(ask({ stop_sequences: [", three"] }))).json()) as Json;
    expect(body).toMatchObject({
      content: [{ text: "one, two" }],
      stop_reason: "stop_sequence",
      stop_sequence: ", three",
    });
  });
});

describe("POST /v1/messages, streaming", () => {
  it("sends named events whose names are their types, one delta per text event", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["Hel", "lo."]));
    const res = await post(ask({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const all = await events(res);
    expect(all.every((e) => e.event === e.data.type)).toBe(true);
    expect(all.map((e) => (e.event === "content_block_delta" ? e.data.delta.text : e.event))).toEqual([
      "message_start",
      "content_block_start",
      "Hel",
      "lo.",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(all[0]?.data.message).toMatchObject({ id: MSG_ID, model: "claude-haiku-4-5", content: [] });
  });

  it("a failure after some text ends the stream with an error event in Anthropic's shape", async () => {
    const { executor, post } = setup();
    script(executor, (id) => {
      executor.emit(id, { type: "text", delta: "Partial" });
      executor.finish(id, {
        status: "failed",
        error: { reason: "upstream_error", message: "API Error: 500" },
      });
    });
    const all = await events(await post(ask({ stream: true })));
    expect(all.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "error",
    ]);
    expect(all.at(-1)?.data).toEqual({
      type: "error",
      error: {
        type: "overloaded_error",
        message: "The request failed (upstream_error): API Error: 500",
        code: "upstream_error",
      },
    });
  });

  it("a failure before any text is a real HTTP status", async () => {
    const { executor, post } = setup();
    script(executor, (id) =>
      executor.finish(id, { status: "timed_out", error: { reason: "timeout", message: "took too long" } }),
    );
    const res = await post(ask({ stream: true }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as Json).error).toMatchObject({ type: "api_error", code: "timeout" });
  });

  it("keeps a quiet stream alive with ping events", async () => {
    const { executor, post } = setup({ holdMs: 10, idleMs: 20 });
    let jobId = "";
    script(executor, (id) => {
      jobId = id;
    });
    const res = await post(ask({ stream: true }));
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: ping")) text += decoder.decode((await reader.read()).value);
    expect(text).toContain('event: ping\ndata: {"type":"ping"}');
    executor.succeed(jobId, ["late"]);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value);
    }
    expect(text).toContain('"text":"late"');
    expect(text.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
  });
});

describe("POST /v1/messages: errors in Anthropic's shape", () => {
  it("an unknown model: 404 not_found_error naming the supported ids; nothing runs", async () => {
    const { executor, post } = setup();
    const res = await post(ask({ model: "gpt-4o" }));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      type: "error",
      error: {
        type: "not_found_error",
        message:
          "model: model 'gpt-4o' is not supported; supported models: claude-haiku-4-5, claude-sonnet-4-6",
        code: "model_not_found",
      },
    });
    expect(executor.submissions).toEqual([]);
  });

  it("an invalid body: 400 invalid_request_error naming the field", async () => {
    const { post } = setup();
    const res = await post(ask({ tools: [{ name: "f", input_schema: { type: "object" }, strict: true }] }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as Json;
    expect(body.type).toBe("error");
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "unsupported_parameter" });
    expect(body.error.message).toMatch(/^tools\.0\.strict: /);
  });

  it("a wrong key: 401 authentication_error", async () => {
    const { post } = setup();
    const res = await post(ask(), { "x-api-key": "wrong-token-0000000000" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Json).error.type).toBe("authentication_error");
  });

  it("a model the caller's policy does not list: 403 permission_error", async () => {
    const { executor, post } = setup({
      policy: { ...OPEN_POLICY, defaults: { ...OPEN_POLICY.defaults, models: ["claude-sonnet-4-6"] } },
    });
    const res = await post(ask());
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).error).toMatchObject({
      type: "permission_error",
      code: "model_not_allowed",
    });
    expect(executor.submissions).toEqual([]);
  });
});

describe("POST /v1/messages/count_tokens", () => {
  it("is a 501 that SDKs are told not to retry", async () => {
    const { post } = setup();
    const res = await post(ask(), {}, "/v1/messages/count_tokens");
    expect(res.status).toBe(501);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      type: "error",
      error: { type: "api_error", code: "count_tokens_unavailable" },
    });
    expect(body.error.message).toContain("count_tokens is not available");
  });
});

describe("POST /v1/messages: client tools", () => {
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const tools = [
    { name: "get_weather", description: "The weather of a city.", input_schema: { type: "object" } },
    { name: "get_time", input_schema: { type: "object" } },
  ];
  const JOB = jobIdFor(TESTER, "msg-00000001-aaaa-4bbb-8ccc-dddddddddddd");
  const question = { role: "user", content: "Weather and time in Sofia?" };

  /** The first job pauses on the calls; its results make it answer. */
  function pauseThenAnswer(executor: FakeExecutor) {
    script(executor, (id) => {
      executor.emit(id, { type: "status", status: "running" });
      executor.emit(id, { type: "text", delta: "Let me check." });
      executor.pause(id, calls, "Let me check.");
    });
    const supply = executor.supplyToolResults.bind(executor);
    executor.supplyToolResults = async (ref, results) => {
      const reply = await supply(ref, results);
      queueMicrotask(() => executor.succeed(JOB, ["12°C at 09:00."]));
      return reply;
    };
  }

  it("offers the tools to the job and answers the calls it pauses on: tool_use blocks, stop_reason tool_use", async () => {
    const { executor, post } = setup();
    pauseThenAnswer(executor);
    const res = await post(ask({ messages: [question], tools }));
    expect(res.status).toBe(200);
    expect(executor.submissions[0]?.tools).toEqual([
      { name: "get_weather", description: "The weather of a city.", inputSchema: { type: "object" } },
      { name: "get_time", inputSchema: { type: "object" } },
    ]);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({
      id: MSG_ID,
      stop_reason: "tool_use",
      content: [
        { type: "text", text: "Let me check." },
        {
          type: "tool_use",
          id: clientCallId(JOB, "toolu_01"),
          name: "get_weather",
          input: { city: "Sofia" },
        },
        { type: "tool_use", id: clientCallId(JOB, "toolu_02"), name: "get_time", input: {} },
      ],
      usage: { input_tokens: 0, output_tokens: 0 },
    });

    // The client runs the tools and sends the results: the same job goes on.
    const next = await post(
      ask({
        tools,
        messages: [
          question,
          { role: "assistant", content: body.content },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: clientCallId(JOB, "toolu_01"), content: "12°C" },
              { type: "tool_result", tool_use_id: clientCallId(JOB, "toolu_02"), content: "09:00" },
            ],
          },
        ],
      }),
    );
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
    expect(await next.json()).toMatchObject({
      content: [{ type: "text", text: "12°C at 09:00." }],
      stop_reason: "end_turn",
    });
  });

  it("works as the Anthropic SDK's tool loop, streamed: the content passed back, then the results", async () => {
    const { app, executor } = setup();
    pauseThenAnswer(executor);
    const client = new Anthropic({
      apiKey: TOKEN,
      baseURL: "http://gateway.test",
      maxRetries: 0,
      fetch: async (url, init) => app.request(String(url), init as RequestInit),
    });
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather and time in Sofia?" }];
    const first = await client.messages
      .stream({ model: "claude-haiku-4-5", max_tokens: 1024, messages, tools: tools as Anthropic.Tool[] })
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    messages.push({ role: "assistant", content: first.content });
    messages.push({
      role: "user",
      content: first.content.flatMap((block) =>
        block.type === "tool_use"
          ? [
              {
                type: "tool_result" as const,
                tool_use_id: block.id,
                content: block.name === "get_weather" ? "12°C" : "09:00",
              },
            ]
          : [],
      ),
    });
    const second = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages,
      tools: tools as Anthropic.Tool[],
    });
    expect(second.content).toEqual([{ type: "text", text: "12°C at 09:00.", citations: null }]);
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

  it("streams the calls and ends the message with them", async () => {
    const { executor, post } = setup();
    pauseThenAnswer(executor);
    const res = await post(ask({ messages: [question], tools, stream: true }));
    expect(res.status).toBe(200);
    const sent = await events(res);
    expect(sent.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      ...["content_block_start", "content_block_delta", "content_block_stop"],
      ...["content_block_start", "content_block_delta", "content_block_stop"],
      "message_delta",
      "message_stop",
    ]);
    expect(sent[4]?.data).toMatchObject({
      index: 1,
      content_block: { type: "tool_use", id: clientCallId(JOB, "toolu_01"), name: "get_weather" },
    });
    expect(sent.at(-2)?.data).toMatchObject({ delta: { stop_reason: "tool_use" } });
  });

  it("renders earlier tool rounds into a new job's prompt", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["You're welcome."]));
    const res = await post(
      ask({
        tools,
        messages: [
          question,
          {
            role: "assistant",
            content: [{ type: "tool_use", id: "toolu_x", name: "get_weather", input: { city: "Sofia" } }],
          },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "12°C" }] },
          { role: "assistant", content: "It is 12°C." },
          { role: "user", content: "Thanks!" },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const prompt = executor.submissions[0]?.prompt ?? "";
    expect(prompt).toContain('<assistant>\n[called get_weather {"city":"Sofia"}]\n</assistant>');
    expect(prompt).toContain("<tool>\n[get_weather result: 12°C]\n</tool>");
    expect(prompt).toMatch(/<request>\nThanks!\n<\/request>$/);
  });

  it("refuses results for calls it did not make, before the executor is asked", async () => {
    const { executor, post } = setup();
    const res = await post(
      ask({
        messages: [
          question,
          {
            role: "assistant",
            content: [{ type: "tool_use", id: "toolu_x", name: "get_weather", input: {} }],
          },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "12°C" }] },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: "error",
      error: {
        type: "invalid_request_error",
        code: "invalid_tool_call_id",
        message:
          "messages.2.content.0.tool_use_id: 'toolu_x' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
      },
    });
    expect(executor.submissions).toEqual([]);
    expect(executor.toolResults).toEqual([]);
  });

  it("refuses a server tool", async () => {
    const { executor, post } = setup();
    const res = await post(ask({ tools: [{ type: "web_search_20250305", name: "web_search" }] }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.message).toMatch(
      /^tools\.0\.type: 'web_search_20250305' tools/,
    );
    expect(executor.submissions).toEqual([]);
  });
});
