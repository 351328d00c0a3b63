import type { TokenUsage } from "@claude-gateway/contracts";
import type { ResultEvent } from "./events.js";

/** The tokens of a run, in the contracts' shape. */
export function tokenUsage(result: ResultEvent): TokenUsage {
  const u = result.usage;
  return {
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
    cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
  };
}

export interface ModelSpend {
  /** The model id as the CLI reports it, without a context-window suffix like `[1m]`. */
  model: string;
  costUsd: number;
  usage: TokenUsage;
}

/** Spend per model of one run (a run can use several, e.g. a sub-agent on haiku). */
export function spendByModel(result: ResultEvent, fallbackModel: string): ModelSpend[] {
  const entries = Object.entries(result.modelUsage ?? {});
  if (entries.length === 0) {
    return result.total_cost_usd > 0 || result.usage.input_tokens > 0
      ? [{ model: fallbackModel, costUsd: result.total_cost_usd, usage: tokenUsage(result) }]
      : [];
  }
  return entries.map(([model, m]) => ({
    model: model.replace(/\[[^\]]*\]$/, ""),
    costUsd: m.costUSD,
    usage: {
      inputTokens: m.inputTokens,
      outputTokens: m.outputTokens,
      cacheReadInputTokens: m.cacheReadInputTokens,
      cacheCreationInputTokens: m.cacheCreationInputTokens,
    },
  }));
}
