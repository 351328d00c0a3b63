import { availableParallelism, cpus, loadavg } from "node:os";

/** One line naming what a benchmark ran on, for its report. */
export function describeMachine(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return (
    `node ${process.version} · ${availableParallelism()} CPUs (${cpu}) · ` +
    `load ${loadavg()[0]?.toFixed(2)} · ${new Date().toISOString()}`
  );
}
