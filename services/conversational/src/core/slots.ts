import { TooManyTurnsError } from "../errors.js";

/** Gives a slot back (idempotent). */
export type FreeSlot = () => void;

/** At most `max` turns run a CLI at once on this replica; the rest wait in line, briefly. */
export interface TurnSlots {
  /**
   * Resolves with the slot once one is free, in arrival order. Rejects with `TooManyTurnsError`
   * after waiting `waitMs` (at once when `waitMs` is 0), or with the signal's reason on abort.
   */
  acquire(signal?: AbortSignal): Promise<FreeSlot>;
  /** Slots taken now. */
  readonly running: number;
  /** Turns waiting for a slot. */
  readonly waiting: number;
}

export interface TurnSlotsOptions {
  max: number;
  waitMs: number;
  /** The `Retry-After` of the 429 a turn gets when its wait ran out. */
  retryAfterSeconds: number;
}

interface Waiter {
  grant: (free: FreeSlot) => void;
  fail: (err: unknown) => void;
}

/**
 * A FIFO semaphore with a bounded wait: each CLI process holds hundreds of MB, so a replica runs
 * no more than its memory allows, and a burst waits a few seconds instead of failing at once.
 */
export function turnSlots(opts: TurnSlotsOptions): TurnSlots {
  let running = 0;
  const line: Waiter[] = [];

  const slot = (): FreeSlot => {
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const next = line.shift();
      // Handed straight to the next in line: `running` stays as it is.
      if (next) next.grant(slot());
      else running--;
    };
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (running < opts.max) {
        running++;
        return Promise.resolve(slot());
      }
      const tooMany = () => new TooManyTurnsError(opts.max, opts.retryAfterSeconds);
      if (opts.waitMs <= 0) return Promise.reject(tooMany());
      return new Promise<FreeSlot>((resolve, reject) => {
        const leave = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const at = line.indexOf(waiter);
          if (at >= 0) line.splice(at, 1);
        };
        const waiter: Waiter = {
          grant: (free) => {
            leave();
            resolve(free);
          },
          fail: (err) => {
            leave();
            reject(err);
          },
        };
        const onAbort = () => waiter.fail(signal?.reason);
        const timer = setTimeout(() => waiter.fail(tooMany()), opts.waitMs);
        signal?.addEventListener("abort", onAbort, { once: true });
        line.push(waiter);
      });
    },
    get running() {
      return running;
    },
    get waiting() {
      return line.length;
    },
  };
}
