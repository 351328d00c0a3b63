import type { ModelSpend } from "@claude-gateway/claude";
import { createServiceMetrics } from "@claude-gateway/service-kit";
import { Counter, Gauge, Histogram } from "prom-client";

/**
 * Prometheus metrics. Spend is recorded per caller and model: every turn draws on the
 * subscription's limited agent credit.
 */
export function createMetrics() {
  const base = createServiceMetrics();
  const registry = base.registry;
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

  return {
    ...base,
    turnStarted() {
      turnsRunning.inc();
    },
    turnFinished(caller: string, outcome: string, wallSeconds: number, spend: readonly ModelSpend[]) {
      turnsRunning.dec();
      turns.inc({ caller, outcome });
      turnDuration.observe({ outcome }, wallSeconds);
      base.recordSpend(caller, spend);
    },
    verbFinished(caller: string, verb: string, outcome: "ok" | "failed" | "timeout") {
      verbs.inc({ caller, verb, outcome });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
