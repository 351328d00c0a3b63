import { isTerminal, type JobEvent, type JobRecord, type PendingToolCalls } from "@claude-gateway/contracts";
import type { CallerJobRef, Executor, JobEvents } from "./ports.js";

export type WatchItem =
  | { type: "event"; event: JobEvent }
  /** Nothing happened for `idleMs` and the job is still going (a stream may send a keep-alive). */
  | { type: "idle" }
  /** The job's terminal record: the last item. */
  | { type: "final"; job: JobRecord }
  /**
   * The job paused on the model's calls of the caller's tools: the last item (the client answers
   * them in its next request, which watches the job from `pending.seq` on).
   */
  | { type: "tool_calls"; pending: PendingToolCalls };

export interface WatchOptions {
  /** Silence after which the record is read, in case events were lost. */
  idleMs: number;
  /** Ends the watch (client gone, or done with it). */
  signal: AbortSignal;
  /** Only what happens after this event of the job (the pause whose calls this request answers). */
  afterSeq?: number;
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
  const after = opts.afterSeq ?? -1;
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
      // Paused on calls whose event was lost: the record names them.
      if (record?.toolCalls && record.toolCalls.seq > after) {
        yield { type: "tool_calls", pending: record.toolCalls };
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
    const event = r.value;
    if (event.seq <= after) continue;
    if (event.type === "tool_calls") {
      const { calls, text, seq, at, expiresAt } = event;
      yield { type: "tool_calls", pending: { calls, text, seq, at, expiresAt } };
      return;
    }
    yield { type: "event", event };
    if (event.type === "status" && isTerminal(event.status)) {
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
