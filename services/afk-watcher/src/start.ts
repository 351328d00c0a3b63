import { type RunIo, type RunResult, runTick } from "@claude-gateway/afk-adapters";
import { createLogger } from "@claude-gateway/service-kit";
import { exitCodeOf, type WatcherOutcome, watcherTick } from "./tick.js";

export type { RunIo };

/** One watcher tick, start to finish (see `runTick`: a closed gate builds no adapter). */
export function runWatcher(io: RunIo): Promise<RunResult<WatcherOutcome>> {
  return runTick(
    {
      name: "watcher",
      createLogger: (level) => createLogger("afk-watcher", level),
      tick: watcherTick,
      exitCodeOf,
    },
    io,
  );
}
