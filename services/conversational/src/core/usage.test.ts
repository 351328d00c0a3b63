import { ResultEvent } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { spendByModel, tokenUsage } from "./usage.js";

const result = (extra: Record<string, unknown>) =>
  ResultEvent.parse({ type: "result", subtype: "success", is_error: false, session_id: "s", ...extra });

describe("spend", () => {
  it("per model from modelUsage, without a context-window suffix", () => {
    const r = result({
      total_cost_usd: 0.3,
      modelUsage: {
        "claude-haiku-4-5[1m]": { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 3, costUSD: 0.1 },
        "claude-sonnet-4-6": { inputTokens: 20, outputTokens: 4, costUSD: 0.2 },
      },
    });
    expect(spendByModel(r, "x")).toEqual([
      {
        model: "claude-haiku-4-5",
        costUsd: 0.1,
        usage: { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 3, cacheCreationInputTokens: 0 },
      },
      {
        model: "claude-sonnet-4-6",
        costUsd: 0.2,
        usage: { inputTokens: 20, outputTokens: 4, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      },
    ]);
  });

  it("without modelUsage: the run's model, if anything was spent", () => {
    const r = result({ total_cost_usd: 0.05, usage: { input_tokens: 7, output_tokens: 1 } });
    expect(spendByModel(r, "claude-haiku-4-5")).toEqual([
      { model: "claude-haiku-4-5", costUsd: 0.05, usage: tokenUsage(r) },
    ]);
    expect(spendByModel(result({}), "m")).toEqual([]);
  });

  it("tokenUsage defaults missing cache counts to 0", () => {
    expect(tokenUsage(result({ usage: { input_tokens: 1, output_tokens: 2 } }))).toEqual({
      inputTokens: 1,
      outputTokens: 2,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
    });
  });
});
