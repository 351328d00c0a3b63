import { describe, expect, it } from "vitest";
import {
  applyRateLimit,
  type PlanReading,
  PlanState,
  type PlanWindowState,
  planLimit,
  samePlan,
} from "./plan.js";

const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;
const AT = new Date(NOW_MS);

const win = (utilization: number, resetsAt: number, status = "allowed"): PlanWindowState => ({
  utilization,
  resetsAt,
  status,
});

const reading = (over: Partial<PlanReading>): PlanReading => ({
  status: "allowed",
  window: undefined,
  resetsAt: undefined,
  usingOverage: false,
  windows: [],
  ...over,
});

describe("PlanState", () => {
  it("is what applyRateLimit makes, and survives a JSON round trip unchanged", () => {
    const state = applyRateLimit(
      undefined,
      reading({
        status: "allowed_warning",
        window: "five_hour",
        resetsAt: NOW_S + 60,
        windows: [
          { window: "five_hour", utilization: 0.85, resetsAt: NOW_S + 60, status: "allowed_warning" },
        ],
      }),
      AT,
    );
    expect(PlanState.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
    expect(state.observedAt).toBe("2027-01-15T08:00:00.000Z");
  });

  it("a bare reading (no window, no reset) leaves no undefined fields behind", () => {
    const state = applyRateLimit(undefined, reading({ status: "rejected" }), AT);
    expect(state).toEqual({
      status: "rejected",
      usingOverage: false,
      windows: {},
      observedAt: AT.toISOString(),
    });
  });

  it("refuses a record without a verdict or with a bad time", () => {
    expect(
      PlanState.safeParse({ usingOverage: false, windows: {}, observedAt: AT.toISOString() }).success,
    ).toBe(false);
    expect(
      PlanState.safeParse({ status: "allowed", usingOverage: false, windows: {}, observedAt: "yesterday" })
        .success,
    ).toBe(false);
  });
});

describe("applyRateLimit", () => {
  it("keeps windows the new reading does not mention and replaces those it does", () => {
    const before = applyRateLimit(
      undefined,
      reading({
        windows: [
          { window: "five_hour", utilization: 0.1, resetsAt: 10, status: "allowed" },
          { window: "seven_day", utilization: 0.2, resetsAt: 20, status: "allowed" },
        ],
      }),
      AT,
    );
    const after = applyRateLimit(
      before,
      reading({
        status: "allowed_warning",
        windows: [{ window: "five_hour", utilization: 0.9, resetsAt: 10, status: "allowed" }],
      }),
      new Date(NOW_MS + 1000),
    );
    expect(after.status).toBe("allowed_warning");
    expect(after.windows).toEqual({ five_hour: win(0.9, 10), seven_day: win(0.2, 20) });
    expect(after.observedAt).toBe(new Date(NOW_MS + 1000).toISOString());
    expect(before.windows.five_hour?.utilization).toBe(0.1);
  });
});

describe("samePlan", () => {
  const base = applyRateLimit(
    undefined,
    reading({
      status: "allowed",
      window: "five_hour",
      resetsAt: 10,
      windows: [{ window: "five_hour", utilization: 0.1, resetsAt: 10, status: "allowed" }],
    }),
    AT,
  );
  it("ignores when it was observed", () => {
    expect(samePlan(base, { ...base, observedAt: new Date(NOW_MS + 5000).toISOString() })).toBe(true);
  });
  it("sees a change of verdict, reset, overage or any window", () => {
    expect(samePlan(base, { ...base, status: "rejected" })).toBe(false);
    expect(samePlan(base, { ...base, resetsAt: 11 })).toBe(false);
    expect(samePlan(base, { ...base, usingOverage: true })).toBe(false);
    expect(samePlan(base, { ...base, windows: { five_hour: win(0.2, 10) } })).toBe(false);
    expect(samePlan(base, { ...base, windows: { ...base.windows, seven_day: win(0, 20) } })).toBe(false);
  });
  it("nothing known equals nothing known only", () => {
    expect(samePlan(undefined, undefined)).toBe(true);
    expect(samePlan(undefined, base)).toBe(false);
  });
});

describe("planLimit", () => {
  const rejected = (over: Partial<PlanState> = {}): PlanState => ({
    status: "rejected",
    window: "five_hour",
    resetsAt: NOW_S + 120,
    usingOverage: false,
    windows: {
      five_hour: win(1, NOW_S + 120, "rejected"),
      seven_day: win(0.3, NOW_S + 9999),
    },
    observedAt: AT.toISOString(),
    ...over,
  });

  it("no state, or not rejected: not at the limit", () => {
    expect(planLimit(undefined, NOW_MS)).toEqual({ atLimit: false });
    expect(planLimit(rejected({ status: "allowed" }), NOW_MS)).toEqual({ atLimit: false });
    expect(planLimit(rejected({ status: "allowed_warning" }), NOW_MS)).toEqual({ atLimit: false });
  });

  it("rejected with a reset ahead: at the limit, Retry-After in whole seconds until the reset", () => {
    expect(planLimit(rejected(), NOW_MS)).toEqual({
      atLimit: true,
      window: "five_hour",
      resetsAt: NOW_S + 120,
      retryAfterSeconds: 120,
    });
    expect(planLimit(rejected(), NOW_MS + 500)).toMatchObject({ retryAfterSeconds: 120 });
    expect(planLimit(rejected(), NOW_MS + 119_900)).toMatchObject({ retryAfterSeconds: 1 });
  });

  it("several exhausted windows: until the last of them resets", () => {
    const state = rejected({
      windows: {
        five_hour: win(1, NOW_S + 120, "rejected"),
        seven_day: win(1, NOW_S + 86_400, "rejected"),
      },
    });
    expect(planLimit(state, NOW_MS)).toMatchObject({ window: "seven_day", retryAfterSeconds: 86_400 });
  });

  it("the plan's reset passed but a rejected window's has not: still at the limit", () => {
    const state = rejected({ resetsAt: NOW_S - 1, windows: { seven_day: win(1, NOW_S + 60, "rejected") } });
    expect(planLimit(state, NOW_MS)).toMatchObject({
      atLimit: true,
      window: "seven_day",
      retryAfterSeconds: 60,
    });
  });

  it("every reset has passed: the limit is over, though no newer report said so", () => {
    expect(planLimit(rejected(), (NOW_S + 120) * 1000)).toEqual({ atLimit: false });
  });

  it("extra usage pays for the overflow: requests are served, not at the limit", () => {
    expect(planLimit(rejected({ usingOverage: true }), NOW_MS)).toEqual({ atLimit: false });
  });

  it("a rejection without any reset time (the API's throttling, not the plan): not at the limit", () => {
    const throttled = applyRateLimit(undefined, reading({ status: "rejected" }), AT);
    expect(planLimit(throttled, NOW_MS)).toEqual({ atLimit: false });
  });
});
