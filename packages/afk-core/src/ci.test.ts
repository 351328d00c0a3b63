import { describe, expect, it } from "vitest";
import { summariseChecks } from "./ci.js";
import type { Check } from "./types.js";

const c = (name: string, state: Check["state"]): Check => ({ name, state, url: null, description: null });

describe("summariseChecks", () => {
  it.each([
    { name: "no checks yet", checks: [], deploy: null, ci: "none", dep: "not-configured", failures: [] },
    {
      name: "all green",
      checks: [c("test", "success"), c("lint", "success")],
      deploy: null,
      ci: "success",
      dep: "not-configured",
      failures: [],
    },
    {
      name: "one pending",
      checks: [c("test", "success"), c("lint", "pending")],
      deploy: null,
      ci: "pending",
      dep: "not-configured",
      failures: [],
    },
    {
      name: "a failure beats pending",
      checks: [c("test", "failure"), c("lint", "pending")],
      deploy: null,
      ci: "failure",
      dep: "not-configured",
      failures: ["test"],
    },
    {
      name: "deploy configured, absent",
      checks: [c("test", "success")],
      deploy: "deploy",
      ci: "success",
      dep: "absent",
      failures: [],
    },
    {
      name: "deploy pending",
      checks: [c("test", "success"), c("deploy", "pending")],
      deploy: "deploy",
      ci: "success",
      dep: "pending",
      failures: [],
    },
    {
      name: "deployed",
      checks: [c("test", "success"), c("deploy", "success")],
      deploy: "deploy",
      ci: "success",
      dep: "success",
      failures: [],
    },
    {
      name: "deploy failed (not a CI failure)",
      checks: [c("test", "success"), c("deploy", "failure")],
      deploy: "deploy",
      ci: "success",
      dep: "failure",
      failures: [],
    },
    {
      name: "only the deploy check: CI has no signal",
      checks: [c("deploy", "success")],
      deploy: "deploy",
      ci: "none",
      dep: "success",
      failures: [],
    },
  ])("$name", ({ checks, deploy, ci, dep, failures }) => {
    const s = summariseChecks(checks as Check[], deploy);
    expect(s.ci).toBe(ci);
    expect(s.deploy).toBe(dep);
    expect(s.failures.map((f) => f.name)).toEqual(failures);
  });
});
