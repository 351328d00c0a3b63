import { Hono } from "hono";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { operationalRoutes, type RequestVariables, requestContext } from "./http.js";
import { createServiceMetrics } from "./metrics.js";

const METRICS_TOKEN = "metrics-token-0123456789";

/** `metricsToken: null`: none configured. */
function app(ready: boolean, metricsToken: string | null = METRICS_TOKEN) {
  const metrics = createServiceMetrics();
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
  const a = new Hono<{ Variables: RequestVariables }>();
  a.use(requestContext({ logger, metrics }));
  operationalRoutes(a, {
    readiness: () => (ready ? { ready } : { ready, reason: "NATS is not connected" }),
    metrics,
    metricsToken: metricsToken ?? undefined,
  });
  a.get("/hello", (c) => {
    c.var.log.info("hello");
    return c.text("hi");
  });
  return { a, metrics, lines };
}

describe("requestContext and operational routes", () => {
  it("echoes or mints a request id and logs with it", async () => {
    const { a, lines } = app(true);
    const res = await a.request("/hello", { headers: { "x-request-id": "req-1" } });
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ requestId: "req-1", msg: "hello" });
    expect((await a.request("/hello")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
  it("records latency by route and status", async () => {
    const { a, metrics } = app(true);
    await a.request("/hello");
    expect(await metrics.registry.metrics()).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/hello",status="200"\} 1/,
    );
  });
  it("/readyz says why it is not ready; /healthz is alive", async () => {
    const { a } = app(false);
    const r = await a.request("/readyz");
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ready: false, reason: "NATS is not connected" });
    expect((await a.request("/healthz")).status).toBe(200);
  });
});

describe("/metrics: only with the metrics token", () => {
  const get = (a: ReturnType<typeof app>["a"], authorization?: string) =>
    a.request("/metrics", authorization === undefined ? {} : { headers: { authorization } });

  it("serves Prometheus text to the holder of the token", async () => {
    const { a } = app(true);
    await a.request("/hello");
    const res = await get(a, `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/hello"/);
  });

  it.each<[string, string | undefined, string]>([
    ["no credentials", undefined, 'Bearer realm="metrics"'],
    [
      "another scheme",
      `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString("base64")}`,
      'Bearer realm="metrics"',
    ],
    ["a wrong token", "Bearer metrics-token-9876543210", 'Bearer realm="metrics", error="invalid_token"'],
    [
      "a prefix of the token",
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      'Bearer realm="metrics", error="invalid_token"',
    ],
  ])("%s ⇒ 401 with a challenge, and no metrics", async (_n, authorization, challenge) => {
    const res = await get(app(true).a, authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(challenge);
    expect(await res.json()).toEqual({
      error: "unauthorized",
      detail: "/metrics needs the metrics bearer token",
    });
  });

  it("without a token configured nobody reads it (503), whatever is sent", async () => {
    const { a } = app(true, null);
    for (const authorization of [undefined, "Bearer ", `Bearer ${METRICS_TOKEN}`]) {
      const res = await get(a, authorization);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: "metrics_not_configured",
        detail: "/metrics needs METRICS_TOKEN or METRICS_TOKEN_FILE",
      });
    }
  });

  it("leaves /healthz and /readyz open", async () => {
    const { a } = app(true, null);
    expect((await a.request("/healthz")).status).toBe(200);
    expect((await a.request("/readyz")).status).toBe(200);
  });
});
