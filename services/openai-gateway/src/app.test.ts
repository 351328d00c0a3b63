import { type AuthConfig, createAuth } from "@claude-gateway/auth";
import { subjects } from "@claude-gateway/contracts";
import { RemoteServiceError, ServiceUnavailableError } from "@claude-gateway/nats";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createApp, onAuthError } from "./app.js";
import { InFlight } from "./inflight.js";
import { createMetrics } from "./metrics.js";
import { type FakeExecutor, fakeExecutor } from "./test-support/fake-executor.js";
import { helloCompletion } from "./test-support/records.js";

const TOKEN = "test-token-0123456789";
const MODELS = { supported: ["claude-haiku-4-5", "claude-sonnet-4-6"], defaultModel: "claude-sonnet-4-6" };
const NOW = new Date("2026-01-02T03:04:05Z");
const CREATED = Math.floor(NOW.getTime() / 1000);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = Record<string, any>;

function setup(
  opts: { auth?: AuthConfig; ready?: boolean; idleMs?: number; holdMs?: number; maxBodyBytes?: number } = {},
) {
  const executor = fakeExecutor();
  const metrics = createMetrics();
  const inflight = new InFlight();
  let n = 0;
  const app = createApp({
    executor,
    auth: createAuth(opts.auth ?? { tokens: [{ name: "tester", token: TOKEN }] }, { onError: onAuthError }),
    logger: pino({ level: "silent" }),
    metrics,
    models: MODELS,
    job: { agent: "general", budgetUsd: 2, timeoutSeconds: 900 },
    readiness: () =>
      opts.ready === false ? { ready: false, reason: "NATS is not connected" } : { ready: true },
    inflight,
    idleMs: opts.idleMs ?? 60_000,
    holdMs: opts.holdMs ?? 60_000,
    now: () => NOW,
    newId: () => `u${++n}`,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  const post = (body: unknown, init: RequestInit = {}) =>
    app.request("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    });
  return { app, executor, metrics, inflight, post };
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
  it("serves /healthz, /readyz and /metrics without credentials", async () => {
    const { app } = setup({ ready: false });
    expect(await json(await app.request("/healthz"))).toEqual({ ok: true });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await json(ready)).toEqual({ ready: false, reason: "NATS is not connected" });
    const metrics = await app.request("/metrics");
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
    expect(res.headers.get("x-job-id")).toBe("oai-u1");
    expect(await json(res)).toEqual(
      helloCompletion({ id: "chatcmpl-u1", created: CREATED, model: "claude-haiku-4-5" }),
    );
    expect(executor.submissions).toEqual([
      {
        id: "oai-u1",
        agent: "general",
        prompt: "Hi",
        model: "claude-haiku-4-5",
        budgetUsd: 2,
        timeoutSeconds: 900,
        caller: "tester",
      },
    ]);
    expect(executor.subscribers()).toBe(0);
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
    ["tools", chat({ tools: [{ type: "function" }] }), undefined, 400, { param: "tools" }],
    [
      "an image",
      chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "u" } }] }] }),
      undefined,
      400,
      { param: "messages[0].content[0].type" },
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
      subjects.jobs.submit,
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
    executor.submitError = new ServiceUnavailableError(subjects.jobs.submit);
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
    expect(executor.cancelled).toEqual(["oai-u1"]);
    expect(executor.subscribers()).toBe(0);
  });

  it("counts completions by model and outcome", async () => {
    const { executor, post, app } = setup();
    script(executor, (id) => executor.succeed(id, ["ok"]));
    await post(chat());
    await post(chat({ model: "nope" }));
    const text = await (await app.request("/metrics")).text();
    expect(text).toContain(
      'openai_gateway_completions_total{model="claude-haiku-4-5",stream="false",outcome="succeeded"} 1',
    );
    expect(text).toContain(
      'openai_gateway_completions_total{model="unknown",stream="false",outcome="model_not_found"} 1',
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
    expect(executor.cancelled).toEqual(["oai-u1"]);
    expect(executor.subscribers()).toBe(0);
  });
});
