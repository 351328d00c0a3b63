import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { TooManyInFlightError } from "./errors.js";
import { createPolicyGate } from "./gate.js";
import { registerPolicyMetrics } from "./metrics.js";
import { memoryPolicyCounters, staticPolicy } from "./testing.js";
import { usageHandler } from "./usage-route.js";

const NOW = new Date("2026-12-04T10:00:00Z");
const gateWith = () =>
  createPolicyGate({
    policy: staticPolicy({
      defaults: { maxConcurrent: 1, budgetUsdPerDay: 1 },
      callers: { ci: { agents: ["general"], maxConcurrent: 2 }, ops: { admin: true } },
    }),
    counters: memoryPolicyCounters(),
    now: () => NOW,
  });

describe("createPolicyGate", () => {
  it("checks access first: an agent outside the policy is a 403 and counts nothing", async () => {
    const gate = gateWith();
    await expect(gate.admit("tok_ci", { agent: "assistant", leaseMs: 1_000 })).rejects.toMatchObject({
      status: 403,
      code: "agent_not_allowed",
    });
    expect((await gate.usage("tok_ci")).requestsThisMinute).toBe(0);
  });

  it("a ticket caps the run's budget at what is left today and gives its slot back once", async () => {
    const gate = gateWith();
    await gate.recordSpend("tok_ci", 0.75);
    const ticket = await gate.admit("tok_ci", { agent: "general", leaseMs: 60_000 });
    expect(ticket.budgetLeftUsd).toBeCloseTo(0.25);
    expect(ticket.capBudget(5)).toBeCloseTo(0.25);
    expect(ticket.capBudget(0.1)).toBe(0.1);
    expect(ticket.capBudget(undefined)).toBeCloseTo(0.25);
    await ticket.release();
    await ticket.release();
    expect((await gate.usage("tok_ci")).inFlight).toBe(0);
  });

  it("limits are per caller: one caller at its limit does not stop another", async () => {
    const gate = gateWith();
    await gate.admit("tok_a", { leaseMs: 60_000 });
    await expect(gate.admit("tok_a", { leaseMs: 60_000 })).rejects.toBeInstanceOf(TooManyInFlightError);
    await gate.admit("tok_b", { leaseMs: 60_000 });
  });

  it("usage shows the caller its limits and what it used; an admin sees everyone", async () => {
    const gate = gateWith();
    await gate.recordSpend("tok_ci", 0.5);
    await gate.admit("tok_stranger", { leaseMs: 60_000 });
    expect(await gate.usage("tok_ci")).toMatchObject({
      caller: "tok_ci",
      admin: false,
      agents: ["general"],
      maxConcurrent: 2,
      budgetUsdPerDay: 1,
      spentUsdToday: 0.5,
      budgetLeftUsd: 0.5,
      inFlight: 0,
    });
    const all = (await gate.usageOfAll()).map((u) => u.caller);
    expect(all).toEqual(["tok_ci", "tok_ops", "tok_stranger"]);
  });
});

describe("GET /v1/usage", () => {
  const app = (gate = gateWith()) => {
    const a = new Hono<{ Variables: { principal: { id: string } } }>();
    a.use(async (c, next) => {
      c.set("principal", { id: c.req.header("x-test-caller") ?? "" });
      await next();
    });
    a.get("/v1/usage", usageHandler(gate));
    return a;
  };

  it("a caller sees its own usage only", async () => {
    const body = (await (
      await app().request("/v1/usage", { headers: { "x-test-caller": "tok_ci" } })
    ).json()) as {
      caller: string;
      callers?: unknown;
    };
    expect(body.caller).toBe("tok_ci");
    expect(body.callers).toBeUndefined();
  });

  it("an admin sees every caller's", async () => {
    const body = (await (
      await app().request("/v1/usage", { headers: { "x-test-caller": "tok_ops" } })
    ).json()) as {
      callers: Array<{ caller: string }>;
    };
    expect(body.callers.map((c) => c.caller)).toEqual(["tok_ci", "tok_ops"]);
  });
});

describe("registerPolicyMetrics", () => {
  it("gauges per listed caller; an unlisted caller's name never becomes a label", async () => {
    const gate = gateWith();
    await gate.recordSpend("tok_ci", 0.5);
    await gate.recordSpend("tok_stranger-name", 0.25);
    const registry = new Registry();
    registerPolicyMetrics(registry, gate);
    const text = await registry.metrics();
    expect(text).toContain('caller_spend_usd_today{caller="tok_ci"} 0.5');
    expect(text).toContain('caller_max_concurrent{caller="tok_ci"} 2');
    expect(text).not.toContain("stranger");
  });
});
