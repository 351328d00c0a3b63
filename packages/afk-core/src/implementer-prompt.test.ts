import { describe, expect, it } from "vitest";
import { fixForwardPrompt, IMPLEMENTER_PREAMBLE, implementerPrompt } from "./implementer-prompt.js";
import { parseReports } from "./reports.js";
import { issue } from "./test-support/fixtures.js";

describe("implementerPrompt", () => {
  const text = implementerPrompt(issue({ number: 42, title: "Fix login", body: "Login fails on Safari.\n" }));

  it("starts with the preamble, then the issue, then the definition of done", () => {
    expect(text.startsWith(IMPLEMENTER_PREAMBLE)).toBe(true);
    const order = ["## Issue acme/app#42: Fix login", "Login fails on Safari.", "## Definition of done"].map(
      (s) => text.indexOf(s),
    );
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("teaches exactly the report lines the watcher parses", () => {
    for (const line of [
      "PHASE: tests-red",
      "PHASE: tests-green",
      "PUSHED <full commit sha>",
      "BLOCKED: <why a human is needed>",
    ]) {
      expect(text).toContain(line);
    }
  });

  it("does not itself read as a report (the prompt is echoed in the thread)", () => {
    expect(parseReports([text])).toEqual({ phases: [], sha: null, blocked: null });
  });

  it("forbids auto-closing keywords: the loop closes the issue after CI", () => {
    expect(text).toContain('"Refs #<number>"');
    expect(text).toMatch(/Never write "Fixes", "Closes" or "Resolves"/);
  });

  it("says so when the issue has no description", () => {
    expect(implementerPrompt(issue({ body: "  " }))).toContain("(no description)");
  });
});

describe("fixForwardPrompt", () => {
  it("names the commit, the attempt and every failing check", () => {
    const text = fixForwardPrompt({
      sha: "abc123",
      attempt: 2,
      maxAttempts: 3,
      failures: [
        { name: "test", state: "failure", url: "https://ci/1", description: "2 failed" },
        { name: "lint", state: "failure", url: null, description: null },
      ],
    });
    expect(text).toContain("(abc123)");
    expect(text).toContain("corrective turn 2 of 3");
    expect(text).toContain("- test: 2 failed (https://ci/1)");
    expect(text).toContain("- lint");
    expect(parseReports([text]).sha).toBeNull();
  });

  it("copes with a CI that names no failing check", () => {
    expect(fixForwardPrompt({ sha: "a", attempt: 1, maxAttempts: 1, failures: [] })).toContain(
      "named no failing check",
    );
  });
});
