import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PlanLimitReachedError, TooManyInFlightError } from "./errors.js";
import { createPolicyGate } from "./gate.js";
import { registerPolicyMetrics } from "./metrics.js";
import { memoryPlanStore, memoryPolicyCounters, staticPolicy } from "./testing.js";
import { usageHandler } from "./usage-route.js";

const NOW = new Date("2026-12-04T10:00:00Z");
const NOW_S = NOW.getTime() / 1000;
const gateWith = (opts: { plan?: ReturnType<typeof memoryPlanStore>; now?: () => Date } = {}) =>
  createPolicyGate({
    policy: staticPolicy({
      defaults: { maxConcurrent: 1, budgetUsdPerDay: 1 },
      callers: { ci: { agents: ["general"], maxConcurrent: 2 }, ops: { admin: true } },
    }),
    counters: memoryPolicyCounters(),
    now: opts.now ?? (() => NOW),
    ...(opts.plan ? { plan: opts.plan } : {}),
  });

/** The plan as the CLI reports it at its five-hour limit, `resetIn` seconds before the reset. */
async function planAtLimit(resetIn = 3600) {
  const plan = memoryPlanStore();
  await plan.record(
    {
      status: "rejected",
      window: "five_hour",
      resetsAt: NOW_S + resetIn,
      usingOverage: false,
      windows: [
        { window: "five_hour", utilization: 1, resetsAt: NOW_S + resetIn, status: "rejected" },
        { window: "seven_day", utilization: 0.42, resetsAt: NOW_S + 86_400, status: "allowed" },
      ],
    },
    NOW,
  );
  return plan;
}

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

describe("the plan's limit", () => {
  it("at the limit every caller is refused with 429 until the reset, and nothing is counted", async () => {
    const gate = gateWith({ plan: await planAtLimit(3600) });
    for (const caller of ["tok_ci", "tok_ops"]) {
      const err = await gate.admit(caller, { leaseMs: 60_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlanLimitReachedError);
      expect(err).toMatchObject({
        status: 429,
        code: "plan_limit_reached",
        retryAfterSeconds: 3600,
        window: "five_hour",
        resetsAt: NOW_S + 3600,
      });
      expect((err as Error).message).toBe(
        "the Claude subscription's 5-hour usage limit is reached; it resets at 2026-12-04T11:00:00.000Z (retry after 3600 s)",
      );
    }
    expect(await gate.usage("tok_ci")).toMatchObject({ requestsThisMinute: 0, inFlight: 0 });
  });

  it("Retry-After counts down; once the reset passes, requests are admitted again", async () => {
    let now = NOW;
    const gate = gateWith({ plan: await planAtLimit(120), now: () => now });
    now = new Date(NOW.getTime() + 100_500);
    await expect(gate.admit("tok_ci", { leaseMs: 60_000 })).rejects.toMatchObject({ retryAfterSeconds: 20 });
    now = new Date(NOW.getTime() + 120_000);
    const ticket = await gate.admit("tok_ci", { leaseMs: 60_000 });
    expect(ticket.leaseId).toBeTruthy();
  });

  it("a caller refused by its own policy hears that first (403), not the plan's wait", async () => {
    const gate = gateWith({ plan: await planAtLimit() });
    await expect(gate.admit("tok_ci", { agent: "assistant", leaseMs: 1_000 })).rejects.toMatchObject({
      status: 403,
    });
  });

  it("a plan below its limit, or one nobody reported, admits", async () => {
    const plan = memoryPlanStore();
    const gate = gateWith({ plan });
    await gate.admit("tok_ci", { leaseMs: 60_000 });
    await plan.record(
      {
        status: "allowed_warning",
        window: "five_hour",
        resetsAt: NOW_S + 60,
        usingOverage: false,
        windows: [],
      },
      NOW,
    );
    await gate.admit("tok_ci", { leaseMs: 60_000 });
  });

  it("usage shows the plan and whether it refuses; a gate without a plan store shows none", async () => {
    const gate = gateWith({ plan: await planAtLimit(3600) });
    const view = await gate.usage("tok_ci");
    expect(view.plan).toMatchObject({
      atLimit: true,
      resetsAt: NOW_S + 3600,
      retryAfterSeconds: 3600,
      state: { status: "rejected", window: "five_hour", windows: { seven_day: { utilization: 0.42 } } },
    });
    // The plan is everyone's: an admin's list of callers does not repeat it.
    expect((await gate.usageOfAll()).some((v) => "plan" in v)).toBe(false);
    expect(await gateWith({ plan: memoryPlanStore() }).plan()).toEqual({ state: null, atLimit: false });
    expect((await gateWith().usage("tok_ci")).plan).toBeUndefined();
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

  it("the plan's utilisation per window, its resets, and whether it is at its limit", async () => {
    const registry = new Registry();
    registerPolicyMetrics(registry, gateWith({ plan: await planAtLimit(3600) }));
    const text = await registry.metrics();
    expect(text).toContain('claude_plan_utilization{window="five_hour"} 1');
    expect(text).toContain('claude_plan_utilization{window="seven_day"} 0.42');
    expect(text).toContain(`claude_plan_resets_at_seconds{window="five_hour"} ${NOW_S + 3600}`);
    expect(text).toContain("claude_plan_limited 1");
  });

  it("no plan reported (an API-key login): no utilisation, not limited", async () => {
    const registry = new Registry();
    registerPolicyMetrics(registry, gateWith({ plan: memoryPlanStore() }));
    const text = await registry.metrics();
    expect(text).not.toMatch(/claude_plan_utilization\{/);
    expect(text).toContain("claude_plan_limited 0");
  });
});
