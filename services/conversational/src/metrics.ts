import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { TurnReport } from "./conversation.js";

/**
 * Prometheus metrics. Spend is recorded per caller and model, because every turn draws on the
 * subscription's limited agent credit.
 */
export function createMetrics(opts: { activeTurns?: () => number } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency (for streams: until the response started)",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const turns = new Counter({
    name: "conversational_turns_total",
    help: "Turns by caller, kind (new or resume) and outcome (ok or the error code)",
    labelNames: ["caller", "kind", "outcome"],
    registers: [registry],
  });
  const turnDuration = new Histogram({
    name: "conversational_turn_duration_seconds",
    help: "Time from receiving a turn to its full reply (lock wait and CLI start included)",
    labelNames: ["outcome"],
    buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60, 120],
    registers: [registry],
  });
  const firstSentence = new Histogram({
    name: "conversational_first_sentence_seconds",
    help: "Time from receiving a turn to its first complete sentence (what speech synthesis waits for)",
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 30],
    registers: [registry],
  });
  new Gauge({
    name: "conversational_turns_active",
    help: "Turns running on this replica",
    registers: [registry],
    collect() {
      if (opts.activeTurns) this.set(opts.activeTurns());
    },
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
    turnFinished(turn: TurnReport) {
      turns.inc({ caller: turn.caller, kind: turn.kind, outcome: turn.outcome });
      turnDuration.observe({ outcome: turn.outcome }, turn.durationMs / 1000);
      if (turn.firstSentenceMs !== undefined) firstSentence.observe(turn.firstSentenceMs / 1000);
      for (const s of turn.spend) {
        const labels = { caller: turn.caller, model: s.model };
        cost.inc(labels, s.costUsd);
        tokens.inc({ ...labels, kind: "input" }, s.usage.inputTokens);
        tokens.inc({ ...labels, kind: "output" }, s.usage.outputTokens);
        tokens.inc({ ...labels, kind: "cache_read" }, s.usage.cacheReadInputTokens);
        tokens.inc({ ...labels, kind: "cache_creation" }, s.usage.cacheCreationInputTokens);
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
