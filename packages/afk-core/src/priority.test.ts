import { describe, expect, it } from "vitest";
import { priorityFromLabels } from "./priority.js";

describe("priorityFromLabels", () => {
  it.each([
    [[], 2],
    [["bug"], 2],
    [["P0"], 0],
    [["P1"], 1],
    [["P2"], 2],
    [["P3"], 3],
    [["p1"], 1],
    [["P3", "P1"], 1],
    [["P4"], 2],
    [["P10"], 2],
    [["priority P0"], 2],
    [[" P0 "], 0],
  ] as const)("%j → P%i", (labels, expected) => {
    expect(priorityFromLabels(labels)).toBe(expected);
  });
});
