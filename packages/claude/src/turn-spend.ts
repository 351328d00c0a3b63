import type { ModelUsage, ResultEvent } from "./events.js";

/**
 * One turn's result out of a warm process's: the CLI sums `total_cost_usd` and `modelUsage` over
 * the process's life, so a turn's spend is the difference from the result of the turn before.
 * `usage` is already the turn's own (see `test/warm.cli.test.ts`). Pure.
 */
export function perTurnResult(total: ResultEvent, before: ResultEvent | undefined): ResultEvent {
  if (!before) return total;
  const modelUsage: Record<string, ModelUsage> = {};
  for (const [model, now] of Object.entries(total.modelUsage)) {
    const was = before.modelUsage[model];
    const turn = was ? subtract(now, was) : now;
    if (turn.costUSD > 0 || turn.inputTokens > 0 || turn.outputTokens > 0) modelUsage[model] = turn;
  }
  return { ...total, total_cost_usd: nonNegative(total.total_cost_usd - before.total_cost_usd), modelUsage };
}

function subtract(now: ModelUsage, was: ModelUsage): ModelUsage {
  return {
    ...now,
    inputTokens: nonNegative(now.inputTokens - was.inputTokens),
    outputTokens: nonNegative(now.outputTokens - was.outputTokens),
    cacheReadInputTokens: nonNegative(now.cacheReadInputTokens - was.cacheReadInputTokens),
    cacheCreationInputTokens: nonNegative(now.cacheCreationInputTokens - was.cacheCreationInputTokens),
    costUSD: nonNegative(now.costUSD - was.costUSD),
  };
}

/** Float sums can dip a hair below zero; a spend never does. */
function nonNegative(n: number): number {
  return Math.max(n, 0);
}
