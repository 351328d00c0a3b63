import { Counter, Gauge, type Registry } from "prom-client";
import type { WorkspaceObserver } from "./manager.js";

/** The workspace's gauges and counter on `registry`, fed by the manager through the observer returned. */
export function workspaceMetrics(registry: Registry, maxBytes: number | undefined): WorkspaceObserver {
  const used = new Gauge({
    name: "executor_workspace_bytes",
    help: "Disk the workspace (base clones and job checkouts) took when last measured",
    registers: [registry],
  });
  const max = new Gauge({
    name: "executor_workspace_max_bytes",
    help: "WORKSPACE_MAX_BYTES: over it bases are removed, then new jobs wait",
    registers: [registry],
  });
  if (maxBytes !== undefined) max.set(maxBytes);
  const waiting = new Gauge({
    name: "executor_jobs_waiting_for_space",
    help: "Jobs on this replica waiting for the workspace to get under its budget",
    registers: [registry],
  });
  const removed = new Counter({
    name: "executor_bases_removed_total",
    help: "Base clones removed: unused for BASE_TTL_SECONDS (expired) or least recently used over the budget",
    labelNames: ["why"],
    registers: [registry],
  });
  return {
    measured: (bytes) => used.set(bytes),
    baseRemoved: (why) => removed.inc({ why }),
    waiting: (count) => waiting.set(count),
  };
}
