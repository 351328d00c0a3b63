import { settlesWithin } from "@claude-gateway/service-kit";

/** Work still running for clients (a request, a stream, a cancel), so shutdown can wait for it. */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  get size(): number {
    return this.#running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return work;
  }

  /** Resolves true once nothing runs, or false after `timeoutMs` with work still running. */
  idle(timeoutMs: number): Promise<boolean> {
    const drained = (async () => {
      while (this.#running.size > 0) await Promise.all(this.#running);
    })();
    return settlesWithin(drained, timeoutMs);
  }
}
