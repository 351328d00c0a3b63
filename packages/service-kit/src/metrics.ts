import type { TokenUsage } from "@claude-gateway/contracts";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** What one CLI run spent on one model. */
export interface ModelSpend {
  model: string;
  costUsd: number;
  usage: TokenUsage;
}

/**
 * The metrics every service has: process defaults, HTTP latency, and what CLI runs spent per
 * caller and model — every run draws on the subscription's limited agent credit.
 */
export function createServiceMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency (for streams: until the response starts)",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const cost = new Counter({
    name: "claude_cost_usd_total",
    help: "Spend reported by the CLI (total_cost_usd), by caller and model",
    labelNames: ["caller", "model"],
    registers: [registry],
  });
  const tokens = new Counter({
    name: "claude_tokens_total",
    help: "Tokens reported by the CLI, by caller, model and kind",
    labelNames: ["caller", "model", "kind"],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    recordSpend(caller: string, spend: readonly ModelSpend[]) {
      for (const s of spend) {
        const labels = { caller, model: s.model };
        cost.inc(labels, s.costUsd);
        tokens.inc({ ...labels, kind: "input" }, s.usage.inputTokens);
        tokens.inc({ ...labels, kind: "output" }, s.usage.outputTokens);
        tokens.inc({ ...labels, kind: "cache_read" }, s.usage.cacheReadInputTokens);
        tokens.inc({ ...labels, kind: "cache_creation" }, s.usage.cacheCreationInputTokens);
      }
    },
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
