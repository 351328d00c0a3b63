import type { ModelSpend } from "@claude-gateway/claude";
import type { JobRecord } from "@claude-gateway/contracts";
import { createServiceMetrics } from "@claude-gateway/service-kit";
import { Counter, Gauge, Histogram } from "prom-client";

/** The executor's metrics on top of every service's (HTTP latency, spend per caller and model). */
export function createMetrics(
  opts: {
    queueStats?: () => Promise<{ queued: number }>;
    /** A caller's metric label: itself if the policy names it, else `other` (labels stay bounded). */
    callerLabel?: (principal: string) => string;
    /** Prewarmed CLI processes ready now. */
    prewarmed?: () => number;
    /** Jobs paused on their caller's tool calls now (each holds its process and slot). */
    awaitingToolResults?: () => number;
  } = {},
) {
  const callerLabel = opts.callerLabel ?? ((p: string) => p);
  const base = createServiceMetrics();
  const registry = base.registry;
  const submitted = new Counter({
    name: "executor_jobs_submitted_total",
    help: "Jobs accepted into the queue",
    labelNames: ["caller", "agent"],
    registers: [registry],
  });
  new Gauge({
    name: "executor_prewarm_processes",
    help: "Prewarmed CLI processes ready for stateless jobs of no-tools agents on this replica",
    registers: [registry],
    collect() {
      if (opts.prewarmed) this.set(opts.prewarmed());
    },
  });
  new Gauge({
    name: "executor_jobs_awaiting_tool_results",
    help: "Jobs on this replica paused on the model's calls of their caller's tools, each holding its CLI process and executor slot until the results come or TOOL_RESULTS_TIMEOUT_SECONDS pass",
    registers: [registry],
    collect() {
      if (opts.awaitingToolResults) this.set(opts.awaitingToolResults());
    },
  });
  const prewarm = new Counter({
    name: "executor_prewarm_events_total",
    help: "Prewarmed CLI processes for stateless jobs of no-tools agents: hit (a job got one), miss (none ready), started, ready (its CLI reads its input), expired (aged or its key unused), died (exited unused)",
    labelNames: ["event"],
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
  const reenqueued = new Counter({
    name: "executor_jobs_reenqueued_total",
    help: "Queued jobs no queue message carried (a submitter died between record and publish), published again by a sweep",
    registers: [registry],
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

  return {
    ...base,
    running,
    prewarmEvent(event: string) {
      prewarm.inc({ event });
    },
    jobReenqueued() {
      reenqueued.inc();
    },
    jobSubmitted(job: JobRecord) {
      submitted.inc({ caller: callerLabel(job.caller), agent: job.agent });
    },
    jobStarted(job: JobRecord) {
      if (job.queueWaitMs !== undefined) queueWait.observe(job.queueWaitMs / 1000);
    },
    jobFinished(job: JobRecord, spend: readonly ModelSpend[]) {
      finished.inc({ status: job.status, reason: job.error?.reason ?? "", agent: job.agent });
      if (job.runMs !== undefined)
        runDuration.observe({ agent: job.agent, status: job.status }, job.runMs / 1000);
      base.recordSpend(callerLabel(job.caller), spend);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
