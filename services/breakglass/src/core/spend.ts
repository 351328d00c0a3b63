import type { ResultEvent } from "@claude-gateway/claude";

export interface ModelSpend {
  /** The model id as the CLI reports it, without a context-window suffix like `[1m]`. */
  model: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

/** Spend per model of one turn, from the CLI's result line. */
export function spendByModel(result: ResultEvent, fallbackModel: string): ModelSpend[] {
  const entries = Object.entries(result.modelUsage ?? {});
  if (entries.length === 0) {
    const u = result.usage;
    return result.total_cost_usd > 0 || u.input_tokens > 0
      ? [
          {
            model: fallbackModel,
            costUsd: result.total_cost_usd,
            inputTokens: u.input_tokens,
            outputTokens: u.output_tokens,
            cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
            cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
          },
        ]
      : [];
  }
  return entries.map(([model, m]) => ({
    model: model.replace(/\[[^\]]*\]$/, ""),
    costUsd: m.costUSD,
    inputTokens: m.inputTokens,
    outputTokens: m.outputTokens,
    cacheReadInputTokens: m.cacheReadInputTokens,
    cacheCreationInputTokens: m.cacheCreationInputTokens,
  }));
}
