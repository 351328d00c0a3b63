import { describe, expect, it } from "vitest";
import {
  capBudget,
  checkAccess,
  liveLeases,
  secondsUntilNextMinute,
  secondsUntilNextUtcDay,
  utcDay,
  utcMinute,
} from "./admission.js";
import { AgentNotAllowedError, ModelNotAllowedError } from "./errors.js";
import { CallerPolicy } from "./policy.js";

const limits = CallerPolicy.builtIn().limitsFor("tok_a");

describe("checkAccess", () => {
  it("lets listed agents and models through", () => {
    expect(() => checkAccess(limits, { agent: "assistant", model: "claude-haiku-4-5" })).not.toThrow();
    expect(() => checkAccess(limits, {})).not.toThrow();
  });
  it("an agent outside the policy: 403 agent_not_allowed listing what is allowed", () => {
    const err = (() => {
      try {
        checkAccess(limits, { agent: "general" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AgentNotAllowedError);
    expect(err).toMatchObject({ status: 403, code: "agent_not_allowed" });
    expect((err as Error).message).toContain("assistant, conversational");
  });
  it("a model outside the policy: 403 model_not_allowed", () => {
    expect(() => checkAccess(limits, { model: "claude-opus-5-5" })).toThrow(ModelNotAllowedError);
  });
});

describe("windows", () => {
  const t = new Date("2026-12-04T23:59:30.250Z");
  it("names the UTC day and minute", () => {
    expect(utcDay(t)).toBe("2026-12-04");
    expect(utcMinute(t)).toBe("202612042359");
  });
  it("counts whole seconds to the next day and minute, never zero", () => {
    expect(secondsUntilNextUtcDay(t)).toBe(30);
    expect(secondsUntilNextMinute(t)).toBe(30);
    expect(secondsUntilNextUtcDay(new Date("2026-12-04T00:00:00.000Z"))).toBe(86_400);
    expect(secondsUntilNextMinute(new Date("2026-12-04T10:00:59.999Z"))).toBe(1);
  });
});

describe("capBudget", () => {
  it.each<[number | undefined, number, number | undefined]>([
    [5, 2, 2],
    [1, 2, 1],
    [undefined, 1.5, 1.5],
    [3, Number.POSITIVE_INFINITY, 3],
    [undefined, Number.POSITIVE_INFINITY, undefined],
  ])("asked %s with %s left → %s", (asked, left, capped) => {
    expect(capBudget(asked, left)).toBe(capped);
  });
});

describe("liveLeases", () => {
  it("drops the lapsed ones", () => {
    expect(liveLeases({ a: 100, b: 200, c: 201 }, 200)).toEqual({ c: 201 });
  });
});
