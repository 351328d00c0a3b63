import { planLimit } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { parseLine } from "./parse.js";
import { planState } from "./plan-state.js";
import {
  rateLimitAllowedLine,
  rateLimitRejectedLine,
  rateLimitThrottledLine,
} from "./test-support/cli-lines.js";
import { type RunEvent, translateLine } from "./translate.js";

// The CLI's own lines folded into the contracts' `PlanState`; `applyRateLimit` and `planLimit`
// themselves are tested in packages/contracts (src/plan.test.ts).
const runEvents = (...lines: unknown[]): RunEvent[] =>
  lines.flatMap((l) => {
    const parsed = parseLine(JSON.stringify(l));
    if (!parsed) throw new Error("blank fixture");
    return translateLine(parsed);
  });

const AT = new Date("2026-12-04T10:00:00Z");

describe("planState", () => {
  it("no rate_limit events (an API-key login prints none): no state", () => {
    expect(planState([{ type: "text", text: "hi" }])).toBeUndefined();
    expect(planState([])).toBeUndefined();
  });

  it("folds the CLI's lines: the latest verdict, and the latest reading of each window", () => {
    const state = planState(runEvents(rateLimitAllowedLine, rateLimitRejectedLine), undefined, AT);
    expect(state).toEqual({
      status: "rejected",
      window: "five_hour",
      resetsAt: 1796418101,
      usingOverage: false,
      windows: {
        five_hour: { utilization: 1, resetsAt: 1796418101, status: "rejected" },
        seven_day: { utilization: 0.17, resetsAt: 1796673701, status: "allowed" },
      },
      observedAt: AT.toISOString(),
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

describe("planLimit of the CLI's lines", () => {
  it("a rejection without any reset time (the API's throttling, not the plan): not at the limit", () => {
    expect(planLimit(planState(runEvents(rateLimitThrottledLine)), Date.now())).toEqual({ atLimit: false });
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
