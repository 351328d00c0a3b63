import { describe, expect, it } from "vitest";
import { exitCodeOf } from "./tick.js";

describe("watcher exit code", () => {
  it("is 0 when every run was handled, 1 when an adapter failed", () => {
    expect(exitCodeOf({ runs: [], failures: [] })).toBe(0);
    expect(exitCodeOf({ runs: [], failures: [{ scope: "a/b#1", error: "timeout" }] })).toBe(1);
  });
});
