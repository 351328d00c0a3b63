import type { JobRecord } from "@claude-gateway/contracts";
import { type Logger, settlesWithin } from "@claude-gateway/service-kit";
import { decideDelivery, loseJob } from "./core/records.js";
import {
  type Clock,
  type Delivery,
  HAND_BACK,
  type JobStore,
  type QueueConsumer,
  type RunJob,
} from "./ports.js";

export interface WorkerDeps {
  consumer: QueueConsumer;
  store: JobStore;
  clock: Clock;
  logger: Logger;
  capacity: number;
  /** How often a running job tells the queue it is still ours (well under the ack wait). */
  heartbeatMs: number;
  /** Runs one job to its end (never throws for a job failure; records it). */
  runJob: RunJob;
  /** A job that was running on a replica that is gone ended as `executor_lost`. */
  onLost?: (job: JobRecord) => void;
}

interface Active {
  controller: AbortController;
  delivery: Delivery;
  done: Promise<void>;
}

/**
 * Pulls jobs from the shared queue only while this replica has a free slot, so the queue stays
 * FIFO across replicas and no replica hoards work. Each running job keeps its message alive with
 * heartbeats; the message is acknowledged when the job's record is final.
 */
export function createWorker(deps: WorkerDeps) {
  const active = new Map<string, Active>();
  // Slots taken from the moment a message is pulled, before its job is looked up, so the loop
  // never pulls more than `capacity` messages at once.
  let taken = 0;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let slotFreed: (() => void) | undefined;
  const waitForSlot = () =>
    taken < deps.capacity
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          slotFreed = resolve;
        });

  const release = () => {
    taken--;
    slotFreed?.();
    slotFreed = undefined;
  };

  const handle = async (d: Delivery): Promise<void> => {
    try {
      await handleDelivery(d);
    } finally {
      release();
    }
  };

  const handleDelivery = async (d: Delivery): Promise<void> => {
    const record = await deps.store.get(d.caller, d.id);
    const decision = decideDelivery(record, d.token);
    if (decision.action === "drop" || decision.action === "skip") {
      deps.logger.info({ jobId: d.id, why: decision.why }, "queue message acknowledged without running");
      await d.ack();
      return;
    }
    if (decision.action === "lose") {
      const lost = await deps.store.update(d.caller, d.id, (r) =>
        r.status === "running" ? loseJob(r, deps.clock.now()) : r,
      );
      deps.onLost?.(lost);
      deps.logger.warn(
        { jobId: d.id, deliveryCount: d.deliveryCount, executor: record?.executor },
        "job marked executor_lost",
      );
      await d.ack();
      return;
    }
    const controller = new AbortController();
    // Each heartbeat keeps the message ours and looks for a cancel whose broadcast was lost.
    const heartbeat = setInterval(() => {
      d.working();
      void deps.store.get(d.caller, d.id).then(
        (r) => {
          if (r?.cancelRequested && !controller.signal.aborted) {
            deps.logger.info({ jobId: d.id }, "cancelling a running job (requested in its record)");
            controller.abort(r.cancelRequested.reason);
          }
        },
        () => {},
      );
    }, deps.heartbeatMs);
    let recorded = true;
    const entry: Active = {
      controller,
      delivery: d,
      done: deps
        .runJob(record!, controller.signal)
        .catch((err: unknown) => {
          recorded = false;
          deps.logger.error({ jobId: d.id, err }, "job runner failed; leaving its message for redelivery");
        })
        .finally(() => clearInterval(heartbeat)),
    };
    active.set(d.id, entry);
    try {
      await entry.done;
      // Final, or handed back at shutdown under a new message: this one is done either way (a nak
      // would count a delivery, and `maxDeliver` of them would strand the job). A job whose end
      // could not be recorded keeps its message: redelivered after the ack wait, it ends
      // `executor_lost` (or runs, had it not started), never left as it was.
      if (recorded) await d.ack();
    } finally {
      active.delete(d.id);
    }
  };

  const run = async () => {
    while (!stopping) {
      await waitForSlot();
      if (stopping) break;
      let d: Delivery | null;
      try {
        d = await deps.consumer.next(2000);
      } catch (err) {
        deps.logger.warn({ err }, "could not pull from the job queue; retrying");
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!d) continue;
      if (stopping) {
        d.nak();
        break;
      }
      taken++;
      void handle(d).catch((err: unknown) =>
        deps.logger.error({ jobId: d.id, err }, "could not handle delivery"),
      );
    }
  };

  return {
    start() {
      loop ??= run();
    },
    /** Jobs running here now. */
    get active() {
      return active.size;
    },
    capacity: deps.capacity,
    /** Stops the job if it runs here; false if it does not. */
    cancel(id: string, reason: string): boolean {
      const a = active.get(id);
      if (!a) return false;
      a.controller.abort(reason);
      return true;
    },
    /**
     * Stops pulling, lets running jobs finish for `graceMs`, then stops the rest: a job whose CLI
     * had not started goes back to the queue (a new message, run elsewhere); one whose CLI had
     * started fails `executor_stopped` (never run twice).
     */
    async stop(graceMs: number): Promise<void> {
      stopping = true;
      slotFreed?.();
      await loop;
      const all = Promise.all([...active.values()].map((a) => a.done));
      if (await settlesWithin(all, graceMs)) return;
      for (const a of active.values()) a.controller.abort(HAND_BACK);
      await all;
    },
  };
}

export type Worker = ReturnType<typeof createWorker>;
