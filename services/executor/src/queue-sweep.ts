import { randomUUID } from "node:crypto";
import type { JobRecord } from "@claude-gateway/contracts";
import type { Logger } from "@claude-gateway/service-kit";
import { markEnqueued, needsEnqueue, reissueToken } from "./core/records.js";
import type { Clock, JobQueue, JobStore } from "./ports.js";

export interface QueueSweepDeps {
  store: Pick<JobStore, "list" | "update">;
  queue: Pick<JobQueue, "enqueue">;
  clock: Clock;
  logger: Logger;
  /** A queued job without a confirmed message this old is published again (and how often to look). */
  graceMs: number;
  onReenqueued?: (job: JobRecord) => void;
}

/**
 * Finds queued jobs no confirmed queue message carries — the submitter, or a replica handing a job
 * back, died between writing the record and publishing, or its publish failed after the record
 * was kept — and publishes each again under a new token (so an earlier message, should it exist
 * after all, is stale and never runs). Every replica sweeps; the token is taken with a
 * revision-checked update, so only one of them publishes.
 */
export function createQueueSweeper(deps: QueueSweepDeps) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const reenqueue = async (job: JobRecord): Promise<boolean> => {
    const token = randomUUID();
    const now = deps.clock.now();
    const taken = await deps.store.update(job.caller, job.id, (r) =>
      needsEnqueue(r, now, deps.graceMs) ? reissueToken(r, token) : r,
    );
    if (taken.queueToken !== token) return false; // another replica got it, or it moved on
    await deps.queue.enqueue({ id: job.id, caller: job.caller, token });
    const confirmed = await deps.store.update(job.caller, job.id, (r) =>
      markEnqueued(r, token, deps.clock.now()),
    );
    deps.logger.warn(
      { jobId: job.id, caller: job.caller },
      "re-enqueued a queued job no queue message carried",
    );
    deps.onReenqueued?.(confirmed);
    return true;
  };

  /** One pass; resolves with how many jobs it published again. */
  const sweep = async (): Promise<number> => {
    const now = deps.clock.now();
    const stranded = (await deps.store.list(undefined)).filter((r) => needsEnqueue(r, now, deps.graceMs));
    let n = 0;
    for (const job of stranded) {
      try {
        if (await reenqueue(job)) n++;
      } catch (err) {
        deps.logger.warn(
          { jobId: job.id, err },
          "could not re-enqueue a stranded job; the next sweep retries",
        );
      }
    }
    return n;
  };

  return {
    sweep,
    start() {
      timer ??= setInterval(() => {
        running ??= sweep()
          .catch((err: unknown) => {
            deps.logger.warn({ err }, "queue sweep failed");
            return 0;
          })
          .finally(() => {
            running = undefined;
          });
      }, deps.graceMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
