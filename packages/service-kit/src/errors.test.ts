import { ErrorEnvelope, ModelNotSupportedError } from "@claude-gateway/contracts";
import { Hono } from "hono";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { errorBody, oneLine, ServiceError, toServiceError } from "./errors.js";
import { readJsonBody, routeNotFound, serviceErrorHandler } from "./http.js";

describe("errorBody", () => {
  it("is the envelope, with retry_after_seconds and issues only when present", () => {
    expect(errorBody(new ServiceError(404, "job_not_found", "no job x"))).toEqual({
      error: "job_not_found",
      detail: "no job x",
    });
    const full = errorBody(
      new ServiceError(429, "queue_full", "full\nretry later", {
        retryAfterSeconds: 30,
        issues: [{ path: "prompt", message: "too long" }],
      }),
    );
    expect(full).toEqual({
      error: "queue_full",
      detail: "full retry later",
      retry_after_seconds: 30,
      issues: [{ path: "prompt", message: "too long" }],
    });
    expect(ErrorEnvelope.parse(full)).toEqual(full);
  });
});

describe("toServiceError", () => {
  it.each<[string, unknown, Record<string, unknown>]>([
    ["a service error stays itself", new ServiceError(409, "busy", "busy"), { status: 409, code: "busy" }],
    [
      "a model outside the allowlist",
      new ModelNotSupportedError("gpt-4o", ["claude-sonnet-4-6"]),
      { status: 400, code: "model_not_supported", detail: expect.stringContaining("claude-sonnet-4-6") },
    ],
    [
      "another package's error with its own answer and a client-safe detail",
      Object.assign(new Error("crashed; stderr: /home/app secret"), {
        status: 503,
        code: "crashed",
        detail: "claude crashed (exit code 1)",
      }),
      { status: 503, code: "crashed", detail: "claude crashed (exit code 1)" },
    ],
    [
      "a retry hint is kept",
      Object.assign(new Error("slow down"), { status: 429, code: "rate_limited", retryAfterSeconds: 9 }),
      { status: 429, retryAfterSeconds: 9 },
    ],
    ["a plain error says nothing", new Error("password=hunter2"), { status: 500, code: "internal" }],
    [
      "a system error code is no answer",
      Object.assign(new Error("x"), { code: "ECONNRESET" }),
      { status: 500 },
    ],
    [
      "a non-error status is no answer",
      Object.assign(new Error("x"), { status: 200, code: "ok" }),
      { status: 500 },
    ],
    ["a thrown string", "boom", { status: 500, code: "internal" }],
    ...["TimeoutError", "ClosedConnectionError", "NoResponders", "JetStreamApiError"].map(
      (name): [string, unknown, Record<string, unknown>] => [
        `the NATS client's ${name} (the store is away): a 503 to retry`,
        Object.assign(new Error("timeout"), { name }),
        { status: 503, code: "store_unavailable", retryAfterSeconds: 1 },
      ],
    ),
  ])("%s", (_name, thrown, expected) => {
    const err = toServiceError(thrown);
    expect(err).toMatchObject(expected);
    expect(err.detail).not.toContain("hunter2");
    expect(err.detail).not.toContain("secret");
  });
});

describe("oneLine", () => {
  it("folds line breaks and clips", () => {
    expect(oneLine("a\n  b\r\nc")).toBe("a b c");
    expect(oneLine("x".repeat(400), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("HTTP: serviceErrorHandler, routeNotFound, readJsonBody", () => {
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
  const app = new Hono();
  app.post("/json", async (c) => c.json({ got: await readJsonBody(c, "the job") }));
  app.get("/full", () => {
    throw new ServiceError(429, "queue_full", "the queue is full", { retryAfterSeconds: 7 });
  });
  app.get("/bug", () => {
    throw new Error("secret internals");
  });
  app.notFound(routeNotFound);
  app.onError(serviceErrorHandler(logger));

  it("renders a service error with its status and Retry-After", async () => {
    const res = await app.request("/full");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toEqual({
      error: "queue_full",
      detail: "the queue is full",
      retry_after_seconds: 7,
    });
  });

  it("a bug is a 500 internal for the client and the real error in the log", async () => {
    const res = await app.request("/bug");
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("secret");
    expect(lines.some((l) => l.includes("secret internals"))).toBe(true);
  });

  it("unknown routes are 404 not_found", async () => {
    const res = await app.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", detail: "no route GET /nope" });
  });

  it.each<[string, Record<string, string>, string, number, unknown]>([
    ["JSON", { "content-type": "application/json" }, '{"a":1}', 200, { got: { a: 1 } }],
    ["not JSON", { "content-type": "text/plain" }, "a=1", 415, { error: "unsupported_media_type" }],
    [
      "a simple (no-preflight) type naming JSON in a parameter",
      { "content-type": "text/plain; charset=application/json" },
      '{"a":1}',
      415,
      { error: "unsupported_media_type" },
    ],
    [
      "another JSON format",
      { "content-type": "application/json-patch+json" },
      "[]",
      415,
      { error: "unsupported_media_type" },
    ],
    // Sent as bytes below: a string body would get `text/plain` from fetch itself.
    ["no content type", {}, '{"a":1}', 415, { error: "unsupported_media_type" }],
    ["JSON in capitals", { "content-type": "APPLICATION/JSON" }, '{"a":1}', 200, { got: { a: 1 } }],
    [
      "broken JSON",
      { "content-type": "application/json; charset=utf-8" },
      "{nope",
      400,
      { error: "invalid_json" },
    ],
  ])("readJsonBody: %s", async (_n, headers, body, status, expected) => {
    const bytes = "content-type" in headers ? body : new TextEncoder().encode(body);
    const res = await app.request("/json", { method: "POST", headers, body: bytes });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject(expected as object);
  });
});
