/**
 * Concurrency slots, each with its own runner user: a slot's user runs one job at a time, which is
 * what makes "kill everything running as it" a safe way to end a job.
 */
export interface SlotPool {
  /** The lowest free slot, or undefined when all are taken. */
  acquire(): number | undefined;
  release(slot: number): void;
  readonly free: number;
}

export function createSlotPool(size: number): SlotPool {
  const taken = new Set<number>();
  return {
    acquire() {
      for (let slot = 0; slot < size; slot++) {
        if (!taken.has(slot)) {
          taken.add(slot);
          return slot;
        }
      }
      return undefined;
    },
    release(slot) {
      taken.delete(slot);
    },
    get free() {
      return size - taken.size;
    },
  };
}
