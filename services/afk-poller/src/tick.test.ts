import { describe, expect, it } from "vitest";
import { exitCodeOf, type PollerOutcome } from "./tick.js";

const base: PollerOutcome = { idle: null, results: [], failures: [], stalls: [] };
const stall = { blockedMinutes: 300 } as PollerOutcome["stalls"][number];

describe("poller exit code", () => {
  it.each([
    [
      "dispatched",
      { results: [{ issue: "a/b#1", kind: "dispatched" as const, threadId: "t", projectId: "p" }] },
      0,
    ],
    ["nothing ready", { idle: "nothing-ready" as const }, 0],
    ["all locked, not for long", { idle: "all-locked" as const }, 0],
    ["a stalled queue", { idle: "all-locked" as const, stalls: [stall] }, 2],
    ["an adapter failed", { failures: [{ scope: "a/b", error: "503" }] }, 1],
    [
      "an adapter failed and the queue is stalled",
      { failures: [{ scope: "a/b", error: "503" }], stalls: [stall] },
      1,
    ],
  ])("%s → %i", (_, over, code) => {
    expect(exitCodeOf({ ...base, ...over })).toBe(code);
  });
});
