import { type PolicyGate, registerPolicyMetrics } from "@claude-gateway/policy";
import { createServiceMetrics } from "@claude-gateway/service-kit";
import { Counter, Gauge, Histogram } from "prom-client";
import type { TurnReport } from "./conversation.js";

/**
 * Prometheus metrics. Spend is recorded per caller and model, because every turn draws on the
 * subscription's limited agent credit.
 */
export function createMetrics(
  opts: {
    activeTurns?: () => number;
    /** Turns waiting for one of this replica's CLI slots. */
    queuedTurns?: () => number;
    /**
     * The caller policy: a principal is its own `caller` label only if the policy names it (else
     * `other`: labels stay bounded), and the policy's per-caller gauges are registered too.
     */
    gate?: PolicyGate;
    /** Live CLI processes by state: warm (a conversation's, idle), pooled (prewarmed), busy. */
    processes?: () => { warm: number; pooled: number; busy: number };
  } = {},
) {
  const gate = opts.gate;
  const label = (principal: string) => gate?.metricLabel(principal) ?? "other";
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
    help: "Time from receiving a turn to its first complete sentence (what speech synthesis waits for), by the process that ran it (warm, pool or cold)",
    labelNames: ["start"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 30],
    registers: [registry],
  });
  const warmEvents = new Counter({
    name: "conversational_warm_events_total",
    help: "Warm CLI processes: hit and miss (a conversation's turn), pool_hit and pool_miss (a new conversation), stale (another replica ran a turn since), evicted (room for a turn), expired (idle or aged), failed, started, ready (a prewarmed process's CLI reads its input), exited; forwarded (a turn sent to the replica holding its process), taken_over (that replica was gone)",
    labelNames: ["kind"],
    registers: [registry],
  });
  new Gauge({
    name: "conversational_cli_processes",
    help: "Live CLI processes on this replica by state: warm (a conversation's, idle), pooled (prewarmed, idle), busy (running a turn)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const c = opts.processes?.();
      if (!c) return;
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: "conversational_turns_active",
    help: "Turns running on this replica (waiting for a lock or a slot included)",
    registers: [registry],
    collect() {
      if (opts.activeTurns) this.set(opts.activeTurns());
    },
  });
  new Gauge({
    name: "conversational_turns_queued",
    help: "Turns waiting for a CLI slot on this replica (CONVERSATIONAL_MAX_CONCURRENCY)",
    registers: [registry],
    collect() {
      if (opts.queuedTurns) this.set(opts.queuedTurns());
    },
  });

  if (gate) registerPolicyMetrics(registry, gate);

  return {
    ...base,
    warmEvent(kind: string) {
      warmEvents.inc({ kind });
    },
    turnFinished(turn: TurnReport) {
      const caller = label(turn.caller);
      turns.inc({ caller, kind: turn.kind, outcome: turn.outcome });
      turnDuration.observe({ outcome: turn.outcome }, turn.durationMs / 1000);
      if (turn.firstSentenceMs !== undefined)
        firstSentence.observe({ start: turn.start }, turn.firstSentenceMs / 1000);
      base.recordSpend(caller, turn.spend);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
