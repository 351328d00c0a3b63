import { describe, expect, it } from "vitest";
import type { ResultEvent } from "./events.js";
import { spendByModel, tokenUsage } from "./spend.js";

const result = (over: Partial<ResultEvent>): ResultEvent =>
  ({
    type: "result",
    subtype: "success",
    is_error: false,
    session_id: "s",
    duration_ms: 1,
    num_turns: 1,
    total_cost_usd: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
    modelUsage: {},
    permission_denials: [],
    ...over,
  }) as ResultEvent;

describe("usage", () => {
  it("maps the CLI's usage to token counts", () => {
    expect(
      tokenUsage(
        result({
          usage: {
            input_tokens: 5,
            output_tokens: 3,
            cache_read_input_tokens: 2,
            cache_creation_input_tokens: null,
          },
        }),
      ),
    ).toEqual({
      inputTokens: 5,
      outputTokens: 3,
      cacheReadInputTokens: 2,
      cacheCreationInputTokens: 0,
    });
  });
  it("splits spend per model and strips the context-window suffix", () => {
    const spend = spendByModel(
      result({
        total_cost_usd: 0.3,
        modelUsage: {
          "claude-opus-4-8[1m]": {
            inputTokens: 10,
            outputTokens: 2,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
            costUSD: 0.25,
          },
          "claude-haiku-4-5": {
            inputTokens: 4,
            outputTokens: 1,
            cacheReadInputTokens: 0,
            cacheCreationInputTokens: 0,
            costUSD: 0.05,
          },
        },
      }),
      "fallback",
    );
    expect(spend.map((s) => [s.model, s.costUsd])).toEqual([
      ["claude-opus-4-8", 0.25],
      ["claude-haiku-4-5", 0.05],
    ]);
  });
  it("falls back to the job's model when the CLI gives no breakdown, and to nothing when nothing was spent", () => {
    expect(spendByModel(result({ total_cost_usd: 0.1 }), "m")).toMatchObject([{ model: "m", costUsd: 0.1 }]);
    expect(spendByModel(result({}), "m")).toEqual([]);
  });
});
