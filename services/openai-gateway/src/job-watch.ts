import { isTerminal, type JobEvent, type JobRecord } from "@claude-gateway/contracts";
import type { CallerJobRef, Executor, JobEvents } from "./ports.js";

export type WatchItem =
  | { type: "event"; event: JobEvent }
  /** Nothing happened for `idleMs` and the job is still going (a stream may send a keep-alive). */
  | { type: "idle" }
  /** The job's terminal record: always the last item. */
  | { type: "final"; job: JobRecord };

export interface WatchOptions {
  /** Silence after which the record is read, in case events were lost. */
  idleMs: number;
  /** Ends the watch (client gone, or done with it). */
  signal: AbortSignal;
}

const IDLE = Symbol("idle");
const ABORTED = Symbol("aborted");

/**
 * A job's live events until it ends, then its record. Live events are not durable (core NATS), so
 * silence is checked against the record: a job that ended unseen still ends the watch.
 */
export async function* watchJob(
  executor: Pick<Executor, "get">,
  job: CallerJobRef,
  events: JobEvents,
  opts: WatchOptions,
): AsyncGenerator<WatchItem, void> {
  const it = events[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<JobEvent>> | undefined;
  let live = true;
  while (!opts.signal.aborted) {
    if (live) pending ??= it.next();
    const r = await within(live ? pending : undefined, opts.idleMs, opts.signal);
    if (r === ABORTED) return;
    if (r === IDLE) {
      // A failed poll is not the job failing: keep waiting, the next silence polls again.
      const record = await executor.get(job).catch(() => undefined);
      if (record && isTerminal(record.status)) {
        yield { type: "final", job: record };
        return;
      }
      yield { type: "idle" };
      continue;
    }
    pending = undefined;
    if (r?.done !== false) {
      // The subscription ended under us: carry on by polling the record.
      live = false;
      continue;
    }
    yield { type: "event", event: r.value };
    if (r.value.type === "status" && isTerminal(r.value.status)) {
      // The executor writes the record before it announces the status.
      yield { type: "final", job: await executor.get(job) };
      return;
    }
  }
}

/** `promise`'s result, or IDLE after `ms`, or ABORTED; timers and listeners are always removed. */
function within<T>(
  promise: Promise<T> | undefined,
  ms: number,
  signal: AbortSignal,
): Promise<T | typeof IDLE | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      done();
      resolve(ABORTED);
    };
    const timer = setTimeout(() => {
      done();
      resolve(IDLE);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
    promise?.then(
      (v) => {
        done();
        resolve(v);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}
