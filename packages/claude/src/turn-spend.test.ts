import { describe, expect, it } from "vitest";
import type { ResultEvent } from "./events.js";
import { perTurnResult } from "./turn-spend.js";

const result = (cost: number, models: Record<string, [number, number, number]>): ResultEvent => ({
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 1,
  num_turns: 1,
  session_id: "s",
  total_cost_usd: cost,
  usage: { input_tokens: 7, output_tokens: 2 },
  modelUsage: Object.fromEntries(
    Object.entries(models).map(([m, [input, output, usd]]) => [
      m,
      {
        inputTokens: input,
        outputTokens: output,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
        costUSD: usd,
      },
    ]),
  ),
  permission_denials: [],
});

describe("perTurnResult", () => {
  it("the first turn of a process is its result as printed", () => {
    const first = result(0.01, { haiku: [10, 2, 0.01] });
    expect(perTurnResult(first, undefined)).toBe(first);
  });

  it("later turns are the difference from the turn before, per model", () => {
    const before = result(0.01, { haiku: [10, 2, 0.01] });
    const now = result(0.035, { haiku: [30, 5, 0.025], sonnet: [4, 1, 0.01] });
    const own = perTurnResult(now, before);
    expect(own.total_cost_usd).toBeCloseTo(0.025, 12);
    expect(own.modelUsage.haiku).toMatchObject({ inputTokens: 20, outputTokens: 3 });
    expect(own.modelUsage.haiku!.costUSD).toBeCloseTo(0.015, 12);
    expect(own.modelUsage.sonnet).toMatchObject({ inputTokens: 4, outputTokens: 1, costUSD: 0.01 });
    expect(own.usage).toEqual(now.usage);
  });

  it("a model the turn did not use is left out; float noise never makes a spend negative", () => {
    const before = result(0.3, { haiku: [10, 2, 0.1], sonnet: [5, 5, 0.2] });
    const now = result(0.30000000000000004 - 1e-17, { haiku: [10, 2, 0.1], sonnet: [5, 5, 0.2] });
    const own = perTurnResult(now, before);
    expect(own.modelUsage).toEqual({});
    expect(own.total_cost_usd).toBeGreaterThanOrEqual(0);
    expect(perTurnResult(result(0.1, {}), result(0.2, {})).total_cost_usd).toBe(0);
  });
});
