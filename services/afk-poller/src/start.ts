import { type RunIo, type RunResult, runTick } from "@claude-gateway/afk-adapters";
import { createLogger } from "@claude-gateway/service-kit";
import { exitCodeOf, type PollerOutcome, pollerTick } from "./tick.js";

export type { RunIo };

/** One poller tick, start to finish (see `runTick`: a closed gate builds no adapter). */
export function runPoller(io: RunIo): Promise<RunResult<PollerOutcome>> {
  return runTick(
    {
      name: "poller",
      createLogger: (level) => createLogger("afk-poller", level),
      tick: pollerTick,
      exitCodeOf,
    },
    io,
  );
}
