import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ModelSpend } from "./core/spend.js";

/**
 * Prometheus metrics. Spend is recorded per caller and model: every turn draws on the
 * subscription's limited agent credit.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency (SSE streams: until the stream ends)",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300],
    registers: [registry],
  });
  const turns = new Counter({
    name: "breakglass_turns_total",
    help: "Chat turns that ended, by outcome (ok or the error code)",
    labelNames: ["caller", "outcome"],
    registers: [registry],
  });
  const turnsRunning = new Gauge({
    name: "breakglass_turns_running",
    help: "Chat turns running now",
    registers: [registry],
  });
  const turnDuration = new Histogram({
    name: "claude_run_duration_seconds",
    help: "Wall time of CLI turns",
    labelNames: ["outcome"],
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600],
    registers: [registry],
  });
  const verbs = new Counter({
    name: "breakglass_vm_verbs_total",
    help: "Power verbs run on the Proxmox host, by verb and outcome (ok, failed, timeout)",
    labelNames: ["caller", "verb", "outcome"],
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
    turnStarted() {
      turnsRunning.inc();
    },
    turnFinished(caller: string, outcome: string, wallSeconds: number, spend: ModelSpend[]) {
      turnsRunning.dec();
      turns.inc({ caller, outcome });
      turnDuration.observe({ outcome }, wallSeconds);
      for (const s of spend) {
        cost.inc({ caller, model: s.model }, s.costUsd);
        tokens.inc({ caller, model: s.model, kind: "input" }, s.inputTokens);
        tokens.inc({ caller, model: s.model, kind: "output" }, s.outputTokens);
        tokens.inc({ caller, model: s.model, kind: "cache_read" }, s.cacheReadInputTokens);
        tokens.inc({ caller, model: s.model, kind: "cache_creation" }, s.cacheCreationInputTokens);
      }
    },
    verbFinished(caller: string, verb: string, outcome: "ok" | "failed" | "timeout") {
      verbs.inc({ caller, verb, outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
