import { ClaudeApiError, ClaudeAuthError } from "@claude-gateway/claude";
import { type ConversationalReply, ModelNotSupportedError } from "@claude-gateway/contracts";
import { createPolicyGate, RateLimitedError } from "@claude-gateway/policy";
import { memoryPolicyCounters, staticPolicy } from "@claude-gateway/policy/testing";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { conversationalAuth, createApp } from "./app.js";
import type { ConversationService, TurnHooks } from "./conversation.js";
import type { TurnRequest } from "./core/turn.js";
import { ConversationNotFoundError, TooManyTurnsError } from "./errors.js";
import { createMetrics } from "./metrics.js";
import { parseSseBlock } from "./test-support/sse.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = async (res: Response): Promise<any> => res.json();

const TOKEN = "alice-token-0123456789";
const OPS_TOKEN = "ops-token-0123456789";
const METRICS_TOKEN = "metrics-token-0123456789";
const scrape = async (app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }) =>
  (await app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
const reply = (over: Partial<ConversationalReply> = {}): ConversationalReply => ({
  conversation_id: "conv-1",
  reply: "Hello there. How are you?",
  session_id: "33333333-3333-4333-8333-333333333333",
  model: "claude-haiku-4-5",
  usage: {
    inputTokens: 1,
    outputTokens: 2,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    costUsd: 0.01,
  },
  duration_ms: 12,
  ...over,
});

type Turn = ConversationService["turn"];

function setup(turn: Turn = async () => reply(), opts: { tokens?: boolean; ready?: boolean } = {}) {
  const calls: Array<{ request: TurnRequest; caller: string }> = [];
  // alice is named (her principal is her metric label), ops is an admin, anyone else is `other`.
  const gate = createPolicyGate({
    policy: staticPolicy({ defaults: { budgetUsdPerDay: 3 }, callers: { alice: {}, ops: { admin: true } } }),
    counters: memoryPolicyCounters(),
  });
  const metrics = createMetrics({ gate });
  const app = createApp({
    conversations: {
      turn: (request, caller, hooks) => {
        calls.push({ request, caller });
        return turn(request, caller, hooks);
      },
    },
    auth: conversationalAuth({
      tokens:
        opts.tokens === false
          ? []
          : [
              { name: "alice", token: TOKEN },
              { name: "ops", token: OPS_TOKEN },
            ],
    }),
    logger: pino({ level: "silent" }),
    metrics,
    metricsToken: METRICS_TOKEN,
    gate,
    readiness: () =>
      opts.ready === false ? { ready: false, reason: "NATS is not connected" } : { ready: true },
    maxBodyBytes: 4096,
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request("/v1/conversational", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { app, post, calls, metrics, gate };
}

/** The events of a finished SSE body, in order. */
function parseSse(text: string): Array<{ event: string; data: unknown }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map(parseSseBlock);
}

/** A turn that speaks the given sentences, then answers (or fails). */
const speaking =
  (sentences: string[], end: () => Promise<ConversationalReply>): Turn =>
  async (_req, _caller, hooks?: TurnHooks) => {
    for (const s of sentences) hooks?.onSentence?.(s);
    return end();
  };

describe("POST /v1/conversational (JSON)", () => {
  it("answers with the reply; the caller comes from the token, the request is mapped", async () => {
    const { post, calls } = setup();
    const res = await post({
      conversation_id: "conv-1",
      message: "Hi",
      language: "en",
      model: "claude-haiku-4-5",
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(reply());
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(calls).toEqual([
      {
        request: { conversationId: "conv-1", message: "Hi", language: "en", model: "claude-haiku-4-5" },
        caller: "tok_alice",
      },
    ]);
  });

  it.each([
    ["bg-BG", "bg"],
    ["BG", "bg"],
    ["en-GB", "en"],
    ["en-us", "en"],
  ])("language %s (BCP-47) ⇒ %s", async (tag, language) => {
    const { post, calls } = setup();
    expect((await post({ message: "Hi", language: tag })).status).toBe(200);
    expect(calls[0]!.request.language).toBe(language);
  });

  it("a language it does not speak ⇒ 400 listing the accepted tags", async () => {
    const { post, calls } = setup();
    const res = await post({ message: "Hi", language: "fr-FR" });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe("invalid_request");
    expect(body.detail).toMatch(
      /^language: .*accepted: bg or en, optionally with a region \(bg-BG, en-US, en-GB/,
    );
    expect(calls).toHaveLength(0);
  });

  it("a caller field ⇒ 400: over HTTP the caller is who the credentials say", async () => {
    const { post, calls } = setup();
    const res = await post({ message: "Hi", caller: "tok_bob" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      error: "invalid_request",
      detail: expect.stringContaining("caller"),
    });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ["no message", { language: "en" }, "message"],
    ["an empty message", { message: "" }, "message"],
    ["an unknown field", { message: "hi", agent: "general" }, "agent"],
    ["a language other than bg/en", { message: "hi", language: "de" }, "language"],
    ["a conversation id with a slash", { message: "hi", conversation_id: "a/b" }, "conversation_id"],
    ["stream that is not a boolean", { message: "hi", stream: "yes" }, "stream"],
    ["not an object", [1, 2], "(root)"],
  ])("%s ⇒ 400 invalid_request naming the field", async (_, body, field) => {
    const { post, calls } = setup();
    const res = await post(body);
    expect(res.status).toBe(400);
    const got = await json(res);
    expect(got.error).toBe("invalid_request");
    expect(got.detail).toContain(field);
    expect(calls).toHaveLength(0);
  });

  it("bad JSON ⇒ 400 invalid_json; a non-JSON content type ⇒ 415 unsupported_media_type", async () => {
    const { post } = setup();
    const bad = await post("{nope");
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({ error: "invalid_json", detail: "the turn is not valid JSON" });
    const text = await post(JSON.stringify({ message: "hi" }), { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect((await json(text)).error).toBe("unsupported_media_type");
  });

  it("a body over the limit ⇒ 413 body_too_large", async () => {
    const { post } = setup();
    const res = await post({ message: "x".repeat(5000) });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toBe("body_too_large");
  });

  it.each([
    ["an unknown conversation", new ConversationNotFoundError("conv-9"), 404, "conversation_not_found"],
    [
      "an unsupported model",
      new ModelNotSupportedError("gpt-4", ["claude-haiku-4-5"]),
      400,
      "model_not_supported",
    ],
    [
      "no CLI login",
      new ClaudeAuthError("Invalid API key · Please run /login", 401),
      503,
      "claude_not_authenticated",
    ],
    ["an upstream failure", new ClaudeApiError("API Error: 529 Overloaded", 529), 503, "upstream_error"],
    ["a bug", new Error("undefined is not a function"), 500, "internal"],
  ])("%s ⇒ %i %s with a one-line detail", async (_, err, status, code) => {
    const { post } = setup(async () => {
      throw err;
    });
    const res = await post({ message: "hi" });
    expect(res.status).toBe(status);
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(["detail", "error"]);
    expect(body.error).toBe(code);
    expect(body.detail).not.toContain("\n");
    if (code === "model_not_supported") expect(body.detail).toContain("claude-haiku-4-5");
  });
});

describe("429s carry Retry-After, as JSON and before a stream starts", () => {
  it.each([
    ["the replica's turn slots", new TooManyTurnsError(5, 2), "too_many_turns", 2],
    ["the caller's rate", new RateLimitedError(30, 17), "rate_limited", 17],
  ])("%s ⇒ 429 %s", async (_, err, code, seconds) => {
    const { post } = setup(async () => {
      throw err;
    });
    for (const headers of [{}, { accept: "text/event-stream" }] as Array<Record<string, string>>) {
      const res = await post({ message: "hi" }, headers);
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe(String(seconds));
      expect(await json(res)).toMatchObject({ error: code, retry_after_seconds: seconds });
    }
  });
});

describe("GET /v1/usage", () => {
  it("needs a token; shows the caller its limits and use; an admin sees every caller", async () => {
    const { app, gate } = setup();
    expect((await app.request("/v1/usage")).status).toBe(401);
    await gate.recordSpend("tok_alice", 1.25);
    const own = await app.request("/v1/usage", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(own.status).toBe(200);
    const mine = await json(own);
    expect(mine).toMatchObject({
      caller: "tok_alice",
      admin: false,
      spentUsdToday: 1.25,
      budgetUsdPerDay: 3,
      budgetLeftUsd: 1.75,
      agents: ["assistant", "conversational"],
    });
    expect(mine).not.toHaveProperty("callers");
    const all = await json(
      await app.request("/v1/usage", { headers: { authorization: `Bearer ${OPS_TOKEN}` } }),
    );
    expect(all).toMatchObject({ caller: "tok_ops", admin: true });
    expect(all.callers.map((c: { caller: string }) => c.caller)).toEqual(["tok_alice", "tok_ops"]);
  });
});

describe("auth", () => {
  it("missing or wrong credentials ⇒ 401 unauthorized in the { error, detail } shape, with a challenge", async () => {
    const { app, calls } = setup();
    for (const headers of [
      { "content-type": "application/json" } as Record<string, string>,
      { "content-type": "application/json", authorization: "Bearer wrong-token-0000000000" },
      { "content-type": "application/json", authorization: "Basic Zm9vOmJhcg==" },
    ]) {
      const res = await app.request("/v1/conversational", {
        method: "POST",
        headers,
        body: JSON.stringify({ message: "hi" }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = await json(res);
      expect(body.error).toBe("unauthorized");
      expect(typeof body.detail).toBe("string");
    }
    expect(calls).toHaveLength(0);
  });

  it("no tokens configured ⇒ 503 auth_not_configured (never open by accident)", async () => {
    const { post } = setup(undefined, { tokens: false });
    const res = await post({ message: "hi" });
    expect(res.status).toBe(503);
    expect((await json(res)).error).toBe("auth_not_configured");
  });

  it("health and readiness need no token; /metrics only the metrics token, no caller's", async () => {
    const { app } = setup(undefined, { tokens: false });
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
    const metrics = await app.request("/metrics", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).toBe(200);
    const { app: withCallers } = setup();
    for (const token of [TOKEN, OPS_TOKEN]) {
      const res = await withCallers.request("/metrics", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });
});

describe("POST /v1/conversational (server-sent events)", () => {
  it("Accept: text/event-stream ⇒ a sentence event per sentence, then done with the full reply", async () => {
    const { post } = setup(speaking(["Hello there.", "How are you?"], async () => reply()));
    const res = await post({ message: "Hi" }, { accept: "text/event-stream" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(parseSse(await res.text())).toEqual([
      { event: "sentence", data: { index: 0, text: "Hello there." } },
      { event: "sentence", data: { index: 1, text: "How are you?" } },
      { event: "done", data: reply() },
    ]);
  });

  it("stream: true in the body does the same; stream: false wins over the Accept header", async () => {
    const { post } = setup(speaking(["One."], async () => reply({ reply: "One." })));
    const streamed = await post({ message: "Hi", stream: true });
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    expect(parseSse(await streamed.text()).map((e) => e.event)).toEqual(["sentence", "done"]);
    const plain = await post({ message: "Hi", stream: false }, { accept: "text/event-stream" });
    expect(plain.headers.get("content-type")).toContain("application/json");
    expect((await json(plain)).reply).toBe("One.");
  });

  it("sentences are sent while the turn is still running", async () => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    const { post } = setup(
      speaking(["Early sentence."], async () => {
        await finished;
        return reply();
      }),
    );
    const res = await post({ message: "Hi" }, { accept: "text/event-stream" });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: sentence");
    expect(first).toContain("Early sentence.");
    finish();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain("event: done");
  });

  it("a failure before the first sentence is an ordinary error response with its status", async () => {
    const { post } = setup(async () => {
      throw new ClaudeApiError("API Error: 500", 500);
    });
    const res = await post({ message: "Hi" }, { accept: "text/event-stream" });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await json(res)).toMatchObject({ error: "upstream_error" });
  });

  it("a failure after the stream started is an error event, and the stream ends", async () => {
    const { post } = setup(
      speaking(["Said this."], async () => {
        throw new ClaudeApiError("API Error: 529 Overloaded", 529);
      }),
    );
    const res = await post({ message: "Hi" }, { accept: "text/event-stream" });
    expect(res.status).toBe(200);
    expect(parseSse(await res.text())).toEqual([
      { event: "sentence", data: { index: 0, text: "Said this." } },
      { event: "error", data: { error: "upstream_error", detail: "API Error: 529 Overloaded" } },
    ]);
  });

  it("a reply with no sentence at all still streams done", async () => {
    const { post } = setup(async () => reply({ reply: "" }));
    const res = await post({ message: "Hi" }, { accept: "text/event-stream" });
    expect(parseSse(await res.text())).toEqual([{ event: "done", data: reply({ reply: "" }) }]);
  });
});

describe("operations", () => {
  it("/readyz says why it is not ready", async () => {
    const { app } = setup(undefined, { ready: false });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({ ready: false, reason: "NATS is not connected" });
  });

  it("/metrics has spend per caller and model, turn latency and time to first sentence", async () => {
    const { app, metrics } = setup();
    metrics.turnFinished({
      caller: "tok_alice",
      kind: "new",
      model: "claude-haiku-4-5",
      outcome: "ok",
      durationMs: 1200,
      firstSentenceMs: 400,
      start: "warm",
      spend: [
        {
          model: "claude-haiku-4-5",
          costUsd: 0.25,
          usage: { inputTokens: 10, outputTokens: 3, cacheReadInputTokens: 1, cacheCreationInputTokens: 0 },
        },
      ],
    });
    const text = await scrape(app);
    expect(text).toContain('claude_cost_usd_total{caller="tok_alice",model="claude-haiku-4-5"} 0.25');
    expect(text).toContain(
      'claude_tokens_total{caller="tok_alice",model="claude-haiku-4-5",kind="output"} 3',
    );
    expect(text).toContain('conversational_turns_total{caller="tok_alice",kind="new",outcome="ok"} 1');
    expect(text).toContain("conversational_turn_duration_seconds_count");
    expect(text).toContain('conversational_first_sentence_seconds_count{start="warm"} 1');
    expect(text).toContain("conversational_turns_queued");
  });

  it("a caller the policy does not name is labelled other; the policy's callers get gauges", async () => {
    const { app, metrics, gate } = setup();
    metrics.turnFinished({
      caller: "ak_someone",
      kind: "resume",
      model: "claude-haiku-4-5",
      outcome: "ok",
      durationMs: 900,
      firstSentenceMs: undefined,
      start: "cold",
      spend: [],
    });
    await gate.recordSpend("tok_alice", 0.5);
    const text = await scrape(app);
    expect(text).toContain('conversational_turns_total{caller="other",kind="resume",outcome="ok"} 1');
    expect(text).not.toContain("ak_someone");
    expect(text).toContain('caller_spend_usd_today{caller="tok_alice"} 0.5');
    expect(text).toContain('caller_budget_usd_per_day{caller="tok_ops"} 3');
  });

  it("an unknown route ⇒ 404 in the same shape", async () => {
    const { app } = setup();
    const res = await app.request("/v1/nope", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect((await json(res)).error).toBe("not_found");
  });
});
