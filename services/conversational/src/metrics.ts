import { createServiceMetrics } from "@claude-gateway/service-kit";
import { Counter, Gauge, Histogram } from "prom-client";
import type { TurnReport } from "./conversation.js";

/**
 * Prometheus metrics. Spend is recorded per caller and model, because every turn draws on the
 * subscription's limited agent credit.
 */
export function createMetrics(opts: { activeTurns?: () => number } = {}) {
  const base = createServiceMetrics();
  const registry = base.registry;
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

  return {
    ...base,
    turnFinished(turn: TurnReport) {
      turns.inc({ caller: turn.caller, kind: turn.kind, outcome: turn.outcome });
      turnDuration.observe({ outcome: turn.outcome }, turn.durationMs / 1000);
      if (turn.firstSentenceMs !== undefined) firstSentence.observe(turn.firstSentenceMs / 1000);
      base.recordSpend(turn.caller, turn.spend);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
