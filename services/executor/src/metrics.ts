import type { JobRecord } from "@claude-gateway/contracts";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ModelSpend } from "./core/usage.js";

/**
 * Prometheus metrics. Spend is recorded per caller and model, because every run draws on the
 * subscription's limited agent credit.
 */
export function createMetrics(
  opts: { queueStats?: () => Promise<{ queued: number; inFlight: number }> } = {},
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const submitted = new Counter({
    name: "executor_jobs_submitted_total",
    help: "Jobs accepted into the queue",
    labelNames: ["caller", "agent"],
    registers: [registry],
  });
  const finished = new Counter({
    name: "executor_jobs_finished_total",
    help: "Jobs that reached a terminal state on this replica",
    labelNames: ["status", "reason", "agent"],
    registers: [registry],
  });
  const running = new Gauge({
    name: "executor_jobs_running",
    help: "Jobs running on this replica",
    registers: [registry],
  });
  new Gauge({
    name: "executor_jobs_queued",
    help: "Jobs waiting in the shared queue (all replicas)",
    registers: [registry],
    async collect() {
      if (!opts.queueStats) return;
      const s = await opts.queueStats().catch(() => undefined);
      if (s) this.set(s.queued);
    },
  });
  const queueWait = new Histogram({
    name: "executor_queue_wait_seconds",
    help: "Time from submit to start",
    buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: "claude_run_duration_seconds",
    help: "Wall time of CLI runs, from start to exit",
    labelNames: ["agent", "status"],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600],
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
    running,
    jobSubmitted(job: JobRecord) {
      submitted.inc({ caller: job.caller, agent: job.agent });
    },
    jobStarted(job: JobRecord) {
      if (job.queueWaitMs !== undefined) queueWait.observe(job.queueWaitMs / 1000);
    },
    jobFinished(job: JobRecord, spend: ModelSpend[]) {
      finished.inc({ status: job.status, reason: job.error?.reason ?? "", agent: job.agent });
      if (job.runMs !== undefined)
        runDuration.observe({ agent: job.agent, status: job.status }, job.runMs / 1000);
      for (const s of spend) {
        cost.inc({ caller: job.caller, model: s.model }, s.costUsd);
        tokens.inc({ caller: job.caller, model: s.model, kind: "input" }, s.usage.inputTokens);
        tokens.inc({ caller: job.caller, model: s.model, kind: "output" }, s.usage.outputTokens);
        tokens.inc({ caller: job.caller, model: s.model, kind: "cache_read" }, s.usage.cacheReadInputTokens);
        tokens.inc(
          { caller: job.caller, model: s.model, kind: "cache_creation" },
          s.usage.cacheCreationInputTokens,
        );
      }
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
