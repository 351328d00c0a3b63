import { describe, expect, it } from "vitest";
import { parseLine } from "./parse.js";
import { applyRateLimit, type PlanState, planLimit, planState } from "./plan-state.js";
import {
  rateLimitAllowedLine,
  rateLimitRejectedLine,
  rateLimitThrottledLine,
} from "./test-support/cli-lines.js";
import { type RateLimitRunEvent, type RateLimitWindow, type RunEvent, translateLine } from "./translate.js";

const runEvents = (...lines: unknown[]): RunEvent[] =>
  lines.flatMap((l) => {
    const parsed = parseLine(JSON.stringify(l));
    if (!parsed) throw new Error("blank fixture");
    return translateLine(parsed);
  });

const win = (window: string, utilization: number, resetsAt: number, status = "allowed"): RateLimitWindow => ({
  window,
  utilization,
  resetsAt,
  status,
});

const event = (over: Partial<RateLimitRunEvent>): RateLimitRunEvent => ({
  type: "rate_limit",
  status: "allowed",
  window: undefined,
  resetsAt: undefined,
  usingOverage: false,
  windows: [],
  ...over,
});

const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;

describe("planState", () => {
  it("no rate_limit events (an API-key login prints none): no state", () => {
    expect(planState([{ type: "text", text: "hi" }])).toBeUndefined();
    expect(planState([])).toBeUndefined();
  });

  it("folds the CLI's lines: the latest verdict, and the latest reading of each window", () => {
    const state = planState(runEvents(rateLimitAllowedLine, rateLimitRejectedLine));
    expect(state).toEqual({
      status: "rejected",
      window: "five_hour",
      resetsAt: 1796418101,
      usingOverage: false,
      windows: {
        five_hour: win("five_hour", 1, 1796418101, "rejected"),
        seven_day: win("seven_day", 0.17, 1796673701),
      },
    });
  });

  it("ignores every other event and continues from an initial state", () => {
    const first = planState(runEvents(rateLimitAllowedLine));
    const state = planState([{ type: "text", text: "x" }, ...runEvents(rateLimitThrottledLine)], first);
    // The throttled line reports no windows: the earlier readings stay.
    expect(state?.status).toBe("rejected");
    expect(state?.windows.seven_day?.utilization).toBe(0.17);
  });
});

describe("applyRateLimit", () => {
  it("keeps windows the new event does not mention and replaces those it does", () => {
    const before = applyRateLimit(
      undefined,
      event({ windows: [win("five_hour", 0.1, 10), win("seven_day", 0.2, 20)] }),
    );
    const after = applyRateLimit(
      before,
      event({ status: "allowed_warning", windows: [win("five_hour", 0.9, 10)] }),
    );
    expect(after.status).toBe("allowed_warning");
    expect(after.windows).toEqual({
      five_hour: win("five_hour", 0.9, 10),
      seven_day: win("seven_day", 0.2, 20),
    });
    expect(before.windows.five_hour?.utilization).toBe(0.1);
  });
});

describe("planLimit", () => {
  const rejected = (over: Partial<PlanState> = {}): PlanState => ({
    status: "rejected",
    window: "five_hour",
    resetsAt: NOW_S + 120,
    usingOverage: false,
    windows: {
      five_hour: win("five_hour", 1, NOW_S + 120, "rejected"),
      seven_day: win("seven_day", 0.3, NOW_S + 9999),
    },
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
        five_hour: win("five_hour", 1, NOW_S + 120, "rejected"),
        seven_day: win("seven_day", 1, NOW_S + 86_400, "rejected"),
      },
    });
    expect(planLimit(state, NOW_MS)).toMatchObject({ window: "seven_day", retryAfterSeconds: 86_400 });
  });

  it("the plan's reset passed but a rejected window's has not: still at the limit", () => {
    const state = rejected({
      resetsAt: NOW_S - 1,
      windows: { seven_day: win("seven_day", 1, NOW_S + 60, "rejected") },
    });
    expect(planLimit(state, NOW_MS)).toMatchObject({
      atLimit: true,
      window: "seven_day",
      retryAfterSeconds: 60,
    });
  });

  it("every reset has passed: the limit is over, though no newer event said so", () => {
    expect(planLimit(rejected(), (NOW_S + 120) * 1000)).toEqual({ atLimit: false });
  });

  it("extra usage pays for the overflow: requests are served, not at the limit", () => {
    expect(planLimit(rejected({ usingOverage: true }), NOW_MS)).toEqual({ atLimit: false });
  });

  it("a rejection without any reset time (the API's throttling, not the plan): not at the limit", () => {
    expect(planLimit(planState(runEvents(rateLimitThrottledLine)), NOW_MS)).toEqual({ atLimit: false });
  });

  it("the CLI's own rejected line, read an hour before its reset", () => {
    const state = planState(runEvents(rateLimitAllowedLine, rateLimitRejectedLine));
    expect(planLimit(state, (1796418101 - 3600) * 1000)).toEqual({
      atLimit: true,
      window: "five_hour",
      resetsAt: 1796418101,
      retryAfterSeconds: 3600,
    });
  });
});
