import type { ChatEvent } from "./wire.js";

export interface NumberedEvent {
  seq: number;
  event: ChatEvent;
}

export type TurnListener = (item: NumberedEvent) => void;

/**
 * The events of one turn, numbered and kept until the next turn starts, so a client whose
 * connection dropped can attach again and replay what it missed (`after` = the last `id:` it saw).
 * The turn itself never depends on a listener: a phone going offline does not stop a repair.
 */
export class TurnLog {
  private readonly items: NumberedEvent[] = [];
  private readonly listeners = new Set<TurnListener>();

  get finished(): boolean {
    return this.items.at(-1)?.event.type === "done";
  }

  get lastSeq(): number {
    return this.items.length - 1;
  }

  push(event: ChatEvent): void {
    if (this.finished) throw new Error("the turn is already done");
    const item = { seq: this.items.length, event };
    this.items.push(item);
    for (const listener of [...this.listeners]) listener(item);
    if (event.type === "done") this.listeners.clear();
  }

  /** Replays events after `after` synchronously, then follows live ones. Returns the unsubscribe. */
  subscribe(after: number, listener: TurnListener): () => void {
    for (const item of this.items) if (item.seq > after) listener(item);
    if (this.finished) return () => {};
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
