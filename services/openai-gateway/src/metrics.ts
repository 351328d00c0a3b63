import { type PolicyGate, registerPolicyMetrics } from "@claude-gateway/policy";
import { createServiceMetrics } from "@claude-gateway/service-kit";
import { Counter, Histogram } from "prom-client";

/**
 * Prometheus metrics: HTTP latency, completions by caller, model and outcome, time to the first
 * token, and (given the gate) every listed caller's limits and use.
 */
export function createMetrics(gate?: PolicyGate) {
  const base = createServiceMetrics();
  const registry = base.registry;
  const completions = new Counter({
    name: "openai_gateway_completions_total",
    help: "Chat completions by caller (a caller the policy names, else other), model, mode and outcome (succeeded, a job status or reason, client_closed, an error code)",
    labelNames: ["caller", "model", "stream", "outcome"],
    registers: [registry],
  });
  const firstContent = new Histogram({
    name: "openai_gateway_first_content_seconds",
    help: "Streams: from request to the first content chunk",
    labelNames: ["model"],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  if (gate) registerPolicyMetrics(registry, gate);
  return {
    registry,
    httpDuration: base.httpDuration,
    /** `caller`: `gate.metricLabel(principal)`, so only callers the policy names become labels. */
    completed(caller: string, model: string, stream: boolean, outcome: string) {
      completions.inc({ caller, model, stream: String(stream), outcome });
    },
    firstContent(model: string, seconds: number) {
      firstContent.observe({ model }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
