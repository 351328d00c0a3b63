import { Hono } from "hono";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { operationalRoutes, type RequestVariables, requestContext } from "./http.js";
import { createServiceMetrics } from "./metrics.js";

function app(ready: boolean) {
  const metrics = createServiceMetrics();
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
  const a = new Hono<{ Variables: RequestVariables }>();
  a.use(requestContext({ logger, metrics }));
  operationalRoutes(a, {
    readiness: () => (ready ? { ready } : { ready, reason: "NATS is not connected" }),
    metrics,
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
