import { jobIdFor, subjects } from "@claude-gateway/contracts";
import { KvUpdateConflictError, RemoteServiceError, ServiceUnavailableError } from "@claude-gateway/nats";
import type { CallerPolicyFile, PolicyCounters } from "@claude-gateway/policy";
import { memoryPlanStore, memoryPolicyCounters } from "@claude-gateway/policy/testing";
import { describe, expect, it, vi } from "vitest";
import type { FakeExecutor } from "./test-support/fake-executor.js";
import { helloCompletion } from "./test-support/records.js";
import {
  METRICS_TOKEN,
  openPolicy,
  TEST_MODELS,
  TEST_NOW,
  TEST_TOKEN,
  TESTER,
  type TestAppOptions,
  testApp,
} from "./test-support/test-app.js";

const TOKEN = TEST_TOKEN;
const MODELS = TEST_MODELS;
const NOW = TEST_NOW;
/** The id the executor gives the first job (its client id `oai-u1`) of the test caller. */
const JOB_1 = jobIdFor(TESTER, "oai-u1");
/** Tests not about the policy run under one that lets the caller do everything they do. */
const OPEN_POLICY: CallerPolicyFile = openPolicy();
const CREATED = Math.floor(NOW.getTime() / 1000);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

function setup(opts: TestAppOptions = {}) {
  const t = testApp(opts);
  const post = (body: unknown, init: RequestInit = {}) =>
    t.app.request("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    });
  return { ...t, post };
}

const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

const chat = (extra: Json = {}) => ({
  model: "claude-haiku-4-5",
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

/** Scripts every submitted job. */
function script(executor: FakeExecutor, run: (id: string) => void) {
  executor.onSubmit = (job) => run(job.id);
}

/** The `data:` payloads of an SSE body, and its comment lines. */
async function sse(res: Response): Promise<{ data: string[]; comments: string[] }> {
  const text = await res.text();
  const data: string[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (line.startsWith("data: ")) data.push(line.slice(6));
      else if (line.startsWith(":")) comments.push(line);
    }
  }
  return { data, comments };
}

const assembled = (data: string[]) =>
  data
    .filter((d) => d !== "[DONE]")
    .map((d) => JSON.parse(d) as Json)
    .map((c) => c.choices?.[0]?.delta?.content ?? "")
    .join("");

describe("app: operations", () => {
  it("serves /healthz and /readyz without credentials, /metrics to the scraper's token only", async () => {
    const { app } = setup({ ready: false });
    expect(await json(await app.request("/healthz"))).toEqual({ ok: true });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({ ready: false, reason: "NATS is not connected" });
    expect((await app.request("/metrics")).status).toBe(401);
    const asCaller = await app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(asCaller.status).toBe(401);
    const metrics = await app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("http_request_duration_seconds");
  });

  it("answers unknown routes with a 404 in OpenAI's shape", async () => {
    const { app } = setup();
    const res = await app.request("/v1/nope", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: {
        message: "Invalid URL (GET /v1/nope)",
        type: "invalid_request_error",
        param: null,
        code: "unknown_url",
      },
    });
    expect((await app.request("/elsewhere")).status).toBe(404);
  });
});

describe("app: authentication", () => {
  it.each<[string, Record<string, string>]>([
    ["no credentials", {}],
    ["a wrong token", { authorization: "Bearer wrong-token-000000" }],
    ["another scheme", { authorization: "Basic eDp5" }],
  ])("refuses %s with 401 invalid_api_key", async (_name, headers) => {
    const { app, executor } = setup();
    const res = await app.request("/v1/chat/completions", { method: "POST", headers, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await json(res)).error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_api_key",
      param: null,
    });
    expect(executor.submissions).toEqual([]);
  });

  it("answers 503 auth_not_configured when no tokens are configured", async () => {
    const { app } = setup({ auth: { tokens: [] } });
    const res = await app.request("/v1/models", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toMatchObject({ type: "api_error", code: "auth_not_configured" });
  });
});

describe("app: models", () => {
  it("lists the allowlist and returns one model", async () => {
    const { app } = setup();
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    expect(await json(await app.request("/v1/models", auth))).toEqual({
      object: "list",
      data: MODELS.supported.map((id) => ({ id, object: "model", created: CREATED, owned_by: "anthropic" })),
    });
    expect(await json(await app.request("/v1/models/claude-haiku-4-5", auth))).toEqual({
      id: "claude-haiku-4-5",
      object: "model",
      created: CREATED,
      owned_by: "anthropic",
    });
    const missing = await app.request("/v1/models/gpt-4o", auth);
    expect(missing.status).toBe(404);
    expect((await json(missing)).error).toMatchObject({ code: "model_not_found", param: "model" });
  });
});

describe("app: non-streaming completions", () => {
  it("submits one job for the request and answers with its result", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["Hello", " there."]));
    const res = await post(chat({ temperature: 0.3, max_tokens: 50, user: "end-user" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-job-id")).toBe(JOB_1);
    expect(await json(res)).toEqual(
      helloCompletion({ id: "chatcmpl-u1", created: CREATED, model: "claude-haiku-4-5" }),
    );
    expect(executor.submissions).toEqual([
      {
        id: "oai-u1",
        agent: "assistant",
        prompt: "Hi",
        model: "claude-haiku-4-5",
        budgetUsd: 2,
        timeoutSeconds: 900,
        caller: TESTER,
      },
    ]);
    expect(executor.subscribers()).toBe(0);
    expect(executor.refs.every((r) => r.caller === TESTER)).toBe(true);
  });

  it("runs every job in the configured repository (GATEWAY_REPO, GATEWAY_REF)", async () => {
    const { executor, post } = setup({ job: { repo: "https://git.example/infra.git", ref: "main" } });
    script(executor, (id) => executor.succeed(id, ["ok"]));
    expect((await post(chat())).status).toBe(200);
    expect(executor.submissions[0]).toMatchObject({ repo: "https://git.example/infra.git", ref: "main" });
  });

  it("hands images and a response schema to the job, and answers the structured output", async () => {
    const { executor, post } = setup();
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    script(executor, (id) =>
      executor.finish(id, {
        status: "succeeded",
        result: {
          text: '{"n":2}',
          sessionId: "s",
          numTurns: 1,
          permissionDenials: 0,
          structuredOutput: { n: 2 },
        },
      }),
    );
    const res = await post(
      chat({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "How many?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,QUJD" } },
            ],
          },
        ],
        response_format: { type: "json_schema", json_schema: { name: "count", schema } },
      }),
    );
    expect(res.status).toBe(200);
    expect((await json(res)).choices[0].message.content).toBe('{"n":2}');
    expect(executor.submissions[0]).toMatchObject({
      prompt: "How many?\n[image 1]",
      images: [{ mediaType: "image/png", data: "QUJD" }],
      jsonSchema: schema,
    });
  });

  it("tells SDKs not to retry a job that failed for good (x-should-retry: false)", async () => {
    const { executor, post } = setup();
    script(executor, (id) =>
      executor.finish(id, { status: "failed", error: { reason: "budget_exceeded", message: "over" } }),
    );
    const res = await post(chat());
    expect(res.status).toBe(503);
    expect(res.headers.get("x-should-retry")).toBe("false");
    script(executor, (id) =>
      executor.finish(id, { status: "failed", error: { reason: "upstream_error", message: "529" } }),
    );
    const transient = await post(chat());
    expect(transient.status).toBe(503);
    expect(transient.headers.get("x-should-retry")).toBeNull();
  });

  it("runs the default model when none is named, and says so", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    const body = await json(await post({ messages: [{ role: "user", content: "Hi" }] }));
    expect(body.model).toBe("claude-sonnet-4-6");
    expect(executor.submissions[0]?.model).toBe("claude-sonnet-4-6");
  });

  it("sends the whole conversation as one prompt", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    await post(
      chat({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "My name is Ada." },
          { role: "assistant", content: "Noted." },
          { role: "user", content: "What is my name?" },
        ],
      }),
    );
    const prompt = executor.submissions[0]?.prompt ?? "";
    expect(prompt).toContain("<instructions>\nBe brief.\n</instructions>");
    expect(prompt).toContain("<user>\nMy name is Ada.\n</user>");
    expect(prompt).toContain("<assistant>\nNoted.\n</assistant>");
    expect(prompt).toMatch(/<request>\nWhat is my name\?\n<\/request>$/);
  });

  it("cuts the answer at a stop sequence", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["one, two, three"]));
    const body = await json(await post(chat({ stop: [", three"] })));
    expect(body.choices[0].message.content).toBe("one, two");
  });

  it.each<[string, unknown, Record<string, string> | undefined, number, Json]>([
    [
      "an unknown model, listing the supported ones",
      chat({ model: "gpt-4o" }),
      undefined,
      400,
      {
        code: "model_not_found",
        param: "model",
        message: expect.stringContaining("claude-haiku-4-5, claude-sonnet-4-6"),
      },
    ],
    ["bad JSON", "{", undefined, 400, { code: "invalid_json" }],
    [
      "a body that is not JSON",
      "x=1",
      { "content-type": "application/x-www-form-urlencoded" },
      400,
      { code: "unsupported_media_type" },
    ],
    ["n = 2", chat({ n: 2 }), undefined, 400, { code: "unsupported_parameter", param: "n" }],
    [
      "a tool without its function",
      chat({ tools: [{ type: "function" }] }),
      undefined,
      400,
      { param: "tools[0].function" },
    ],
    [
      "a forced tool call",
      chat({
        tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
        tool_choice: "required",
      }),
      undefined,
      400,
      { code: "unsupported_parameter", param: "tool_choice" },
    ],
    [
      "an image URL that is not a URL",
      chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "u" } }] }] }),
      undefined,
      400,
      { code: "invalid_image_url", param: "messages[0].content[0].image_url.url" },
    ],
    [
      "an image URL of a host not allowed (none is by default)",
      chat({
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "http://169.254.169.254/x.png" } }],
          },
        ],
      }),
      undefined,
      400,
      { code: "image_url_not_allowed", param: "messages[0].content[0].image_url.url" },
    ],
    ["an unknown field", chat({ foo: 1 }), undefined, 400, { code: "unknown_parameter", param: "foo" }],
  ])("refuses %s without submitting", async (_name, body, headers, status, error) => {
    const { executor, post } = setup();
    const res = await post(
      body,
      headers ? { headers: { authorization: `Bearer ${TOKEN}`, ...headers } } : {},
    );
    expect(res.status).toBe(status);
    expect((await json(res)).error).toMatchObject({ type: "invalid_request_error", ...error });
    expect(executor.submissions).toEqual([]);
  });

  it("refuses a body over the limit with 413", async () => {
    const { executor, post } = setup({ maxBodyBytes: 1000 });
    const res = await post(chat({ messages: [{ role: "user", content: "x".repeat(2000) }] }));
    expect(res.status).toBe(413);
    expect((await json(res)).error.code).toBe("request_too_large");
    expect(executor.submissions).toEqual([]);
  });

  it("a full queue is a 429 with Retry-After", async () => {
    const { executor, post } = setup();
    executor.submitError = new RemoteServiceError(
      subjects.jobs.serve.admit,
      429,
      "queue_full",
      "the queue holds 1 jobs, its limit; retry after 30 s",
      { retryAfterSeconds: 30 },
    );
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    expect((await json(res)).error).toMatchObject({ code: "rate_limit_exceeded", type: "requests" });
    expect(executor.subscribers()).toBe(0);
  });

  it("no executor is a 503 executor_unavailable", async () => {
    const { executor, post } = setup();
    executor.submitError = new ServiceUnavailableError(subjects.jobs.serve.admit);
    const res = await post(chat());
    expect(res.status).toBe(503);
    expect((await json(res)).error).toMatchObject({ code: "executor_unavailable", type: "api_error" });
  });

  it.each<[string, (e: FakeExecutor, id: string) => void, number, Json]>([
    [
      "a failed job is a 503 naming the reason on one line",
      (e, id) =>
        e.finish(id, {
          status: "failed",
          error: { reason: "upstream_error", message: "API Error: 529 Overloaded\nstack" },
        }),
      503,
      {
        type: "api_error",
        code: "upstream_error",
        message: "The request failed (upstream_error): API Error: 529 Overloaded",
      },
    ],
    [
      "a CLI without a login is a 503 claude_not_authenticated",
      (e, id) =>
        e.finish(id, {
          status: "failed",
          error: { reason: "claude_not_authenticated", message: "Not logged in" },
        }),
      503,
      { type: "api_error", code: "claude_not_authenticated" },
    ],
    [
      "a timed-out job is a 504",
      (e, id) =>
        e.finish(id, { status: "timed_out", error: { reason: "timeout", message: "exceeded 900 s" } }),
      504,
      { type: "api_error", code: "timeout" },
    ],
  ])("%s", async (_name, end, status, error) => {
    const { executor, post } = setup();
    script(executor, (id) => end(executor, id));
    const res = await post(chat());
    expect(res.status).toBe(status);
    expect((await json(res)).error).toMatchObject(error);
  });

  it("cancels the job when the client disconnects", async () => {
    const { executor, post, inflight } = setup();
    const client = new AbortController();
    script(executor, (id) => {
      executor.emit(id, { type: "status", status: "running" });
      client.abort();
    });
    // In-process there is no socket: the handler's answer is returned, not lost.
    expect((await post(chat(), { signal: client.signal })).status).toBe(499);
    await inflight.idle(1000);
    expect(executor.cancelled).toEqual([JOB_1]);
    expect(executor.refs.at(-1)).toEqual({ id: JOB_1, caller: TESTER });
    expect(executor.subscribers()).toBe(0);
  });

  it("counts completions by caller, model and outcome", async () => {
    const { executor, post, metrics } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    await post(chat());
    await post(chat({ model: "nope" }));
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'openai_gateway_completions_total{caller="tok_tester",model="claude-haiku-4-5",stream="false",outcome="succeeded"} 1',
    );
    expect(text).toContain(
      'openai_gateway_completions_total{caller="tok_tester",model="unknown",stream="false",outcome="model_not_found"} 1',
    );
  });
});

describe("app: streaming completions", () => {
  it("streams the role, each delta, finish_reason, usage, then [DONE]", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["Hel", "lo", "!"]));
    const res = await post(chat({ stream: true, stream_options: { include_usage: true } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { data } = await sse(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Json);
    expect(chunks[0]?.choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(["Hel", "lo", "!"]);
    expect(chunks[4]?.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    expect(chunks[5]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 130, completion_tokens: 5, total_tokens: 135 },
    });
    expect(
      chunks.every(
        (c) =>
          c.id === "chatcmpl-u1" && c.object === "chat.completion.chunk" && c.model === "claude-haiku-4-5",
      ),
    ).toBe(true);
    expect(executor.subscribers()).toBe(0);
  });

  it("a job that fails before any text gets a real HTTP status, not a stream", async () => {
    const { executor, post } = setup();
    script(executor, (id) => {
      executor.emit(id, { type: "status", status: "running" });
      executor.finish(id, {
        status: "failed",
        error: { reason: "claude_not_authenticated", message: "Not logged in" },
      });
    });
    const res = await post(chat({ stream: true }));
    expect(res.status).toBe(503);
    expect((await json(res)).error.code).toBe("claude_not_authenticated");
  });

  it("a job that fails after some text ends the stream with an error event and no [DONE]", async () => {
    const { executor, post } = setup();
    script(executor, (id) => {
      executor.emit(id, { type: "text", delta: "Partial" });
      executor.finish(id, {
        status: "failed",
        error: { reason: "upstream_error", message: "API Error: 500" },
      });
    });
    const { data } = await sse(await post(chat({ stream: true })));
    expect(assembled(data.slice(0, -1))).toBe("Partial");
    expect(JSON.parse(data.at(-1) ?? "{}")).toEqual({
      error: {
        message: "The request failed (upstream_error): API Error: 500",
        type: "api_error",
        param: null,
        code: "upstream_error",
      },
    });
  });

  it("opens the stream after holdMs without text, and sends keep-alives while the job is quiet", async () => {
    const { executor, post } = setup({ holdMs: 10, idleMs: 20 });
    let jobId = "";
    script(executor, (id) => {
      jobId = id;
    });
    const res = await post(chat({ stream: true }));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes(": keep-alive")) text += decoder.decode((await reader.read()).value);
    expect(text).toContain('"role":"assistant"');
    executor.succeed(jobId, ["late"]);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value);
    }
    expect(text).toContain('"content":"late"');
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("an empty answer still streams the role, finish_reason and [DONE]", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, []));
    const { data } = await sse(await post(chat({ stream: true })));
    expect(data).toHaveLength(3);
    expect(assembled(data)).toBe("");
  });

  it("cancels the job when the client stops reading mid-stream", async () => {
    const { executor, post, inflight } = setup();
    script(executor, (id) => {
      executor.emit(id, { type: "status", status: "running" });
      executor.emit(id, { type: "text", delta: "first" });
    });
    const res = await post(chat({ stream: true }));
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("assistant");
    await reader.cancel();
    await inflight.idle(1000);
    expect(executor.cancelled).toEqual([JOB_1]);
    expect(executor.refs.at(-1)).toEqual({ id: JOB_1, caller: TESTER });
    expect(executor.subscribers()).toBe(0);
  });
});

describe("app: the caller policy", () => {
  /** `tester` may run `assistant` and `general` on haiku only, one at a time, two a minute, $1 a day. */
  const TIGHT: CallerPolicyFile = {
    defaults: {
      agents: ["assistant"],
      models: ["claude-sonnet-4-6"],
      maxConcurrent: 1,
      requestsPerMinute: 2,
      budgetUsdPerDay: 1,
    },
    callers: { tester: { agents: ["assistant", "general"], models: ["claude-haiku-4-5"] } },
  };

  it("runs the default agent unless the request asks for another, in metadata.agent or X-Claude-Agent", async () => {
    const { executor, post } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    expect((await post(chat())).status).toBe(200);
    expect((await post(chat({ metadata: { agent: "general", other: "ignored" } }))).status).toBe(200);
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    expect((await post(chat(), { headers: { ...headers, "x-claude-agent": "general" } })).status).toBe(200);
    expect(executor.submissions.map((s) => s.agent)).toEqual(["assistant", "general", "general"]);
  });

  it.each<[string, Json, Record<string, string>, Json]>([
    [
      "an agent its policy does not list (403 agent_not_allowed, listing what it may run)",
      chat({ metadata: { agent: "recruiter-triage" } }),
      {},
      {
        type: "request_forbidden",
        code: "agent_not_allowed",
        message: "agent 'recruiter-triage' is not allowed for you; allowed: assistant, general",
      },
    ],
    [
      "the same through the header",
      chat(),
      { "x-claude-agent": "recruiter-triage" },
      { type: "request_forbidden", code: "agent_not_allowed" },
    ],
    [
      "a supported model its policy does not list (403 model_not_allowed)",
      chat({ model: "claude-sonnet-4-6" }),
      {},
      {
        type: "request_forbidden",
        code: "model_not_allowed",
        param: "model",
        message: "model 'claude-sonnet-4-6' is not allowed for you; allowed: claude-haiku-4-5",
      },
    ],
  ])("refuses %s without submitting or counting", async (_name, body, extra, error) => {
    const { executor, post, gate } = setup({ policy: TIGHT });
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...extra };
    const res = await post(body, { headers });
    expect(res.status).toBe(403);
    expect((await json(res)).error).toMatchObject(error);
    expect(executor.submissions).toEqual([]);
    expect(await gate.usage(TESTER)).toMatchObject({ requestsThisMinute: 0, inFlight: 0 });
  });

  it.each<[string, Json, Record<string, string>, Json]>([
    [
      "an agent name that cannot be one",
      chat({ metadata: { agent: "../general" } }),
      {},
      { code: "invalid_value", param: "metadata.agent" },
    ],
    ["a bad header", chat(), { "x-claude-agent": "General!" }, { code: "invalid_value", param: null }],
    [
      "two different agents",
      chat({ metadata: { agent: "general" } }),
      { "x-claude-agent": "assistant" },
      { code: "invalid_value", param: "metadata.agent" },
    ],
  ])("refuses %s with a 400", async (_name, body, extra, error) => {
    const { executor, post } = setup({ policy: TIGHT });
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...extra };
    const res = await post(body, { headers });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ type: "invalid_request_error", ...error });
    expect(executor.submissions).toEqual([]);
  });

  it("holds an in-flight slot while the job runs and gives it back when it ends", async () => {
    const { executor, post, gate, inflight } = setup({ policy: TIGHT });
    let jobId = "";
    script(executor, (id) => {
      jobId = id;
    });
    const first = post(chat());
    await vi.waitFor(() => expect(jobId).not.toBe(""));
    expect(await gate.usage(TESTER)).toMatchObject({ inFlight: 1, requestsThisMinute: 1 });
    const second = await post(chat());
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("5");
    expect(second.headers.get("x-should-retry")).toBeNull();
    expect((await json(second)).error).toMatchObject({ type: "requests", code: "too_many_in_flight" });
    executor.succeed(jobId, ["ok"]);
    expect((await first).status).toBe(200);
    await inflight.idle(1000);
    expect(await gate.usage(TESTER)).toMatchObject({ inFlight: 0, requestsThisMinute: 1 });
    expect(executor.submissions).toHaveLength(1);
  });

  it("gives the slot back before the answer: the next request at once finds it free, streamed or not", async () => {
    const { executor, post, gate } = setup({ policy: TIGHT });
    script(executor, (id) => executor.succeed(id, ["ok"]));
    expect((await post(chat())).status).toBe(200);
    expect(await gate.usage(TESTER)).toMatchObject({ inFlight: 0 });
    const streamed = await post(chat({ stream: true }));
    expect(await streamed.text()).toContain("[DONE]");
    expect(await gate.usage(TESTER)).toMatchObject({ inFlight: 0, requestsThisMinute: 2 });
  });

  it.each<[string, (e: FakeExecutor, id: string, abort: () => void) => void]>([
    [
      "a failed job",
      (e, id) => e.finish(id, { status: "failed", error: { reason: "upstream_error", message: "x" } }),
    ],
    [
      "a client gone",
      (e, id, abort) => {
        e.emit(id, { type: "status", status: "running" });
        abort();
      },
    ],
    ["a stream", (e, id) => e.succeed(id, ["ok"])],
  ])("gives the slot back after %s", async (name, end) => {
    const { executor, post, gate, inflight } = setup({ policy: TIGHT });
    const client = new AbortController();
    script(executor, (id) => end(executor, id, () => client.abort()));
    const res = await post(chat({ stream: name === "a stream" }), { signal: client.signal });
    await res.text();
    await inflight.idle(1000);
    expect(await gate.usage(TESTER)).toMatchObject({ inFlight: 0 });
  });

  it("counters contended by the caller's own burst: a 429 with Retry-After, not a 500", async () => {
    const contended: PolicyCounters = {
      ...memoryPolicyCounters(),
      admit: () => Promise.reject(new KvUpdateConflictError("agent_policy_inflight", TESTER, 30)),
    };
    const { executor, post } = setup({ counters: contended });
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await json(res)).error).toMatchObject({ type: "requests", code: "too_many_concurrent_requests" });
    expect(executor.submissions).toEqual([]);
  });

  it("a rate limit is a 429 rate_limited with Retry-After until the minute ends", async () => {
    const { executor, post } = setup({ policy: TIGHT });
    script(executor, (id) => executor.succeed(id, ["ok"]));
    expect((await post(chat())).status).toBe(200);
    expect((await post(chat())).status).toBe(200);
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect((await json(res)).error).toMatchObject({ type: "requests", code: "rate_limited", param: null });
    expect(executor.submissions).toHaveLength(2);
  });

  it("a spent day is a 429 daily_budget_exceeded until midnight UTC, which SDKs should not retry", async () => {
    const { executor, post, counters } = setup({ policy: TIGHT });
    await counters.recordSpend(TESTER, 1.5, new Date());
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(86_400);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect((await json(res)).error).toMatchObject({
      type: "insufficient_quota",
      code: "daily_budget_exceeded",
    });
    expect(executor.submissions).toEqual([]);
  });

  it("caps the job's budget at what is left of the caller's day", async () => {
    const { executor, post, counters } = setup({ policy: TIGHT });
    await counters.recordSpend(TESTER, 0.75, new Date());
    script(executor, (id) => executor.succeed(id, ["ok"]));
    expect((await post(chat())).status).toBe(200);
    expect(executor.submissions[0]?.budgetUsd).toBe(0.25);
  });

  it("maps the executor's own 403 to the same answer", async () => {
    const { executor, post } = setup();
    executor.submitError = new RemoteServiceError(
      subjects.jobs.serve.admit,
      403,
      "agent_not_allowed",
      "agent 'general' is not allowed for you; allowed: assistant",
    );
    const res = await post(chat());
    expect(res.status).toBe(403);
    expect((await json(res)).error).toMatchObject({
      type: "request_forbidden",
      code: "agent_not_allowed",
      message: "agent 'general' is not allowed for you; allowed: assistant",
    });
  });

  it("GET /v1/usage shows the caller its limits and use, behind auth", async () => {
    const { app, counters } = setup({ policy: TIGHT });
    await counters.recordSpend(TESTER, 0.25, new Date());
    expect((await app.request("/v1/usage")).status).toBe(401);
    const res = await app.request("/v1/usage", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      caller: TESTER,
      admin: false,
      agents: ["assistant", "general"],
      models: ["claude-haiku-4-5"],
      maxConcurrent: 1,
      requestsPerMinute: 2,
      budgetUsdPerDay: 1,
      budgetLeftUsd: 0.75,
      spentUsdToday: 0.25,
      inFlight: 0,
      requestsThisMinute: 0,
    });
  });

  it("shows listed callers' limits and use on /metrics", async () => {
    const { metrics, counters } = setup({ policy: TIGHT });
    await counters.recordSpend(TESTER, 0.25, new Date());
    const text = await metrics.registry.metrics();
    expect(text).toContain('caller_spend_usd_today{caller="tok_tester"} 0.25');
    expect(text).toContain('caller_max_concurrent{caller="tok_tester"} 1');
  });

  it("labels a caller the policy does not name as other", async () => {
    const { executor, post, metrics } = setup({ policy: { defaults: OPEN_POLICY.defaults } });
    script(executor, (id) => executor.succeed(id, ["ok"]));
    await post(chat());
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'openai_gateway_completions_total{caller="other",model="claude-haiku-4-5",stream="false",outcome="succeeded"} 1',
    );
    expect(text).not.toContain("tok_tester");
  });
});

describe("app: the plan's limit", () => {
  const NOW_S = NOW.getTime() / 1000;
  /** The plan as the executor recorded it from a CLI refused at the five-hour limit. */
  async function planAtLimit(resetIn: number) {
    const plan = memoryPlanStore();
    await plan.record(
      {
        status: "rejected",
        window: "five_hour",
        resetsAt: NOW_S + resetIn,
        usingOverage: false,
        windows: [{ window: "five_hour", utilization: 1, resetsAt: NOW_S + resetIn, status: "rejected" }],
      },
      NOW,
    );
    return plan;
  }

  it("a completion is a 429 plan_limit_reached with Retry-After until the reset; no job is submitted", async () => {
    const { executor, post } = setup({ plan: await planAtLimit(3600) });
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3600");
    // Hours away: SDKs should not sit in their retry loop.
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect((await json(res)).error).toMatchObject({
      type: "insufficient_quota",
      code: "plan_limit_reached",
      param: null,
      message: expect.stringMatching(/5-hour usage limit is reached; it resets at 2026-01-02T04:04:05\.000Z/),
    });
    expect(executor.submissions).toEqual([]);
  });

  it("the last seconds of a window: SDKs may retry on their own", async () => {
    const { post } = setup({ plan: await planAtLimit(30) });
    const res = await post(chat());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(res.headers.get("x-should-retry")).toBeNull();
  });

  it("the Messages API gets Anthropic's rate_limit_error", async () => {
    const { app } = setup({ plan: await planAtLimit(3600) });
    const res = await app.request("/v1/messages", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude-haiku-4-5",
        max_tokens: 64,
        messages: [{ role: "user", content: "Hi" }],
      }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3600");
    expect(await json(res)).toMatchObject({
      type: "error",
      error: { type: "rate_limit_error", code: "plan_limit_reached" },
    });
  });

  it("GET /v1/usage and /metrics show the plan", async () => {
    const { app, metrics } = setup({ plan: await planAtLimit(3600) });
    const res = await app.request("/v1/usage", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await json(res)).plan).toMatchObject({
      atLimit: true,
      retryAfterSeconds: 3600,
      state: { status: "rejected", window: "five_hour" },
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain("claude_plan_limited 1");
    expect(text).toContain('claude_plan_utilization{window="five_hour"} 1');
  });
});
