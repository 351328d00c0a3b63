import { apiError, eventually, type Json, TEST_AUTH, TEST_METRICS_AUTH, text } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, type World } from "./harness.js";

/**
 * The subscription plan's utilisation through the whole path: the real CLI under an OAuth login
 * reports the API's `anthropic-ratelimit-unified-*` headers, the executor records them in NATS KV
 * (as its bus user), and the gateway (as its own, which may only read them) shows them and, once the
 * plan is at its limit, refuses completions before any job or CLI is started.
 */
let world: World;
let gateway: RunningGateway;

beforeAll(async () => {
  world = await createWorld({}, { oauth: true });
  gateway = await world.gateway();
});
afterAll(async () => {
  await world?.close();
});

const nowS = () => Math.floor(Date.now() / 1000);
const user = (content: string) => [{ role: "user" as const, content }];

/** The plan headers the API sends a subscription login, five-hour window deciding. */
function planHeaders(p: { status: string; fiveHour: [number, number, string]; sevenDay: [number, number] }) {
  const [u5, reset5, status5] = p.fiveHour;
  const [u7, reset7] = p.sevenDay;
  return {
    "anthropic-ratelimit-unified-status": p.status,
    "anthropic-ratelimit-unified-reset": String(reset5),
    "anthropic-ratelimit-unified-representative-claim": "five_hour",
    "anthropic-ratelimit-unified-5h-utilization": String(u5),
    "anthropic-ratelimit-unified-5h-reset": String(reset5),
    "anthropic-ratelimit-unified-5h-status": status5,
    "anthropic-ratelimit-unified-7d-utilization": String(u7),
    "anthropic-ratelimit-unified-7d-reset": String(reset7),
    "anthropic-ratelimit-unified-7d-status": "allowed",
  };
}

const metricsOf = async (url: string) =>
  (await fetch(`${url}/metrics`, { headers: TEST_METRICS_AUTH })).text();
const usageOf = async (url: string) =>
  (await (await fetch(`${url}/v1/usage`, { headers: TEST_AUTH })).json()) as Json;

describe("the plan's utilisation", () => {
  it("an answer with the plan's headers: the gauges and /v1/usage show its windows", async () => {
    const reset5 = nowS() + 3 * 3600;
    const reset7 = nowS() + 4 * 86_400;
    world.stub.reset();
    world.stub.setDefault(
      text("Hello from the stub.", {
        headers: planHeaders({
          status: "allowed",
          fiveHour: [0.42, reset5, "allowed"],
          sevenDay: [0.17, reset7],
        }),
      }),
    );
    const done = await world.client(gateway).chat.completions.create({
      model: "claude-haiku-4-5",
      messages: user("Hi"),
    });
    expect(done.choices[0]?.message.content).toBe("Hello from the stub.");
    // The CLI authenticated as a subscription: it sent the token as a bearer, no API key.
    expect(world.stub.turnRequests()[0]?.headers["x-api-key"]).toBeUndefined();

    const scraped = await eventually(
      async () => {
        const t = await metricsOf(gateway.url);
        return t.includes('claude_plan_utilization{window="five_hour"} 0.42') && t;
      },
      { what: "the gateway's plan gauges" },
    );
    expect(scraped).toContain('claude_plan_utilization{window="seven_day"} 0.17');
    expect(scraped).toContain(`claude_plan_resets_at_seconds{window="five_hour"} ${reset5}`);
    expect(scraped).toContain("claude_plan_limited 0");
    expect((await usageOf(gateway.url)).plan).toMatchObject({
      atLimit: false,
      state: {
        status: "allowed",
        window: "five_hour",
        windows: { five_hour: { utilization: 0.42, resetsAt: reset5 }, seven_day: { utilization: 0.17 } },
      },
    });
  });

  it("at the limit: the run that hit it fails, then completions are 429 until the reset, and no CLI asks the API", async () => {
    const reset5 = nowS() + 3600;
    world.stub.reset();
    world.stub.setDefault(
      apiError(
        429,
        "stub: usage limit",
        planHeaders({
          status: "rejected",
          fiveHour: [1, reset5, "rejected"],
          sevenDay: [0.5, nowS() + 86_400],
        }),
      ),
    );
    const client = world.client(gateway);
    const first = await client.chat.completions
      .create({ model: "claude-haiku-4-5", messages: user("Hi") })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(first).toBeInstanceOf(OpenAI.APIError);
    expect(world.stub.turnRequests()).toHaveLength(1);

    // The executor recorded the plan before it reported the failure; the gateway reads it on its
    // next look at the shared record (it caches a read for a second).
    await eventually(async () => (await usageOf(gateway.url)).plan?.atLimit === true, {
      what: "the gateway to see the plan at its limit",
    });
    const asked = world.stub.requests.length;
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: TEST_AUTH,
      body: JSON.stringify({ model: "claude-haiku-4-5", messages: user("Hi again") }),
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(((await res.json()) as Json).error).toMatchObject({
      type: "insufficient_quota",
      code: "plan_limit_reached",
      message: expect.stringContaining("5-hour usage limit is reached"),
    });
    // Refused at the gate: no job, no CLI, not one more request to the API.
    expect(world.stub.requests).toHaveLength(asked);

    expect(await metricsOf(gateway.url)).toContain("claude_plan_limited 1");
    expect((await usageOf(gateway.url)).plan).toMatchObject({
      atLimit: true,
      resetsAt: reset5,
      state: {
        status: "rejected",
        window: "five_hour",
        windows: { five_hour: { utilization: 1, status: "rejected" } },
      },
    });
    // The executor refuses its own callers alike (it wrote the record, so it knows at once).
    expect(await metricsOf(world.executor.url)).toContain("claude_plan_limited 1");
  });
});
