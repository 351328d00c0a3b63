import { describe, expect, it } from "vitest";
import { CallerPolicy } from "./policy.js";
import { BUILT_IN_DEFAULTS, principalOfKey } from "./schema.js";

describe("principalOfKey", () => {
  it.each([
    ["ci", "tok_ci"],
    ["token:ci", "tok_ci"],
    ["authentik:ada@example.com", "ak_ada_40example_2ecom"],
    ["nats:billing", "nats_billing"],
    ["tok_ci", "tok_ci"],
    ["ak_ada", "ak_ada"],
    ["odd:name", "tok_odd_3aname"],
  ])("%s → %s", (key, principal) => {
    expect(principalOfKey(key)).toBe(principal);
  });
});

describe("CallerPolicy", () => {
  const policy = new CallerPolicy(
    {
      defaults: { maxConcurrent: 3 },
      callers: {
        ci: { agents: ["general"], budgetUsdPerDay: 25 },
        "authentik:ops@example.com": { admin: true },
      },
    },
    "test",
  );

  it("a caller's entry overrides the defaults key by key; the rest come from the file's then the built-in defaults", () => {
    expect(policy.limitsFor("tok_ci")).toEqual({
      ...BUILT_IN_DEFAULTS,
      maxConcurrent: 3,
      agents: ["general"],
      budgetUsdPerDay: 25,
      admin: false,
      listed: true,
    });
  });

  it("callers not listed get the defaults and no admin", () => {
    expect(policy.limitsFor("tok_someone")).toEqual({
      ...BUILT_IN_DEFAULTS,
      maxConcurrent: 3,
      admin: false,
      listed: false,
    });
    expect(policy.limitsFor("ak_ops_40example_2ecom").admin).toBe(true);
    // The same name as another kind is another caller.
    expect(policy.limitsFor("ak_ci").listed).toBe(false);
  });

  it("only listed callers become metric labels", () => {
    expect(policy.metricLabel("tok_ci")).toBe("tok_ci");
    expect(policy.metricLabel("tok_random-guess-123")).toBe("other");
    expect(policy.listed().sort()).toEqual(["ak_ops_40example_2ecom", "tok_ci"]);
  });

  it("two keys for one caller are refused", () => {
    expect(() => new CallerPolicy({ callers: { ci: {}, "token:ci": {} } }, "t")).toThrow(/two entries/);
  });

  it("the built-in policy is the safe default: no-tools agents, two models, small limits", () => {
    const limits = CallerPolicy.builtIn().limitsFor("tok_anyone");
    expect(limits).toMatchObject({
      agents: ["assistant", "conversational"],
      models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
      maxConcurrent: 2,
      requestsPerMinute: 30,
      budgetUsdPerDay: 2,
      admin: false,
    });
  });
});
