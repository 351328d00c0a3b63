import type { Logger } from "@claude-gateway/service-kit/log";
import { RUN_MARKER_VAR } from "./child-env.js";
import { descendantPids, isAlive, reapRun, signal } from "./reaper.js";

export interface StoppableRun {
  /** The CLI's pid (the leader of its process group); undefined when it never started. */
  pid: number | undefined;
  /** Resolves when the CLI has exited. */
  exit: Promise<unknown>;
  /** The run's marker value (`RUN_MARKER_VAR`), which every tool process inherits. */
  runId: string;
  /** How long the CLI gets after SIGINT before its group gets SIGTERM (default 3000 ms). */
  killGraceMs?: number;
  log: Logger;
}

/**
 * How a run is stopped, once however often it is asked: SIGINT lets the CLI stop its tool processes
 * itself; then its group gets SIGTERM, then SIGKILL; then whatever the run left behind (tool commands
 * in their own sessions, found by the descendant tree and the marker variable) is killed. The
 * returned function resolves when all that is done.
 */
export function runStopper(run: StoppableRun): () => Promise<void> {
  let exited = false;
  void run.exit.then(() => {
    exited = true;
  });
  const waitExit = (ms: number) =>
    Promise.race([
      run.exit.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const pid = run.pid;
      if (pid === undefined || exited) return;
      const known = [pid, ...(await descendantPids(pid))];
      const grace = run.killGraceMs ?? 3000;
      signal(pid, "SIGINT");
      if (!(await waitExit(grace))) {
        signal(-pid, "SIGTERM");
        if (!(await waitExit(Math.min(grace, 2000)))) {
          signal(-pid, "SIGKILL");
          await waitExit(5000);
        }
      }
      const reaped = await reapRun(
        RUN_MARKER_VAR,
        run.runId,
        known.filter((p) => p !== pid && isAlive(p)),
      );
      if (reaped.length) run.log.warn({ runId: run.runId, reaped }, "killed processes the run left behind");
    })();
    return stopping;
  };
}
