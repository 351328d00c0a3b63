import { randomUUID } from "node:crypto";
import type { WarmProcess } from "@claude-gateway/claude";
import type { Logger } from "@claude-gateway/service-kit";
import { shortfall, touchKey } from "./core/prewarm.js";
import type { JobSandbox, Workspace } from "./ports.js";

/** A CLI process started before its job: its own empty checkout, its own sandbox (home, user). */
export interface Prewarmed {
  readonly key: string;
  /** Names the checkout and the home (`jobs/<id>`, `homes/<id>`) in place of a job id. */
  readonly id: string;
  readonly workspace: Workspace;
  readonly sandbox: JobSandbox;
  readonly process: WarmProcess;
}

export type PrewarmEvent = "hit" | "miss" | "started" | "ready" | "expired" | "died";

export interface PrewarmPoolOptions {
  /** Starts one: checkout, sandbox, CLI. Rejects when it cannot. */
  start: (key: string, id: string) => Promise<Prewarmed>;
  /** Processes kept per key; 0 disables the pool. */
  size: number;
  /** How many keys (agent and model) keep processes: the ones used most recently. */
  maxKeys: number;
  maxAgeMs: number;
  /** The keys to keep from the start (e.g. the gateway's agent on the default model). */
  initialKeys?: readonly string[];
  logger: Logger;
  onEvent?: (event: PrewarmEvent) => void;
  now?: () => number;
}

/** The executor's prewarmed processes, for stateless jobs of no-tools agents (`prewarmKeyOf`). */
export interface PrewarmPool {
  /** A ready process for this key, handed over for one job (the caller ends it: `discard`). */
  take(key: string): Prewarmed | undefined;
  /** Ends a taken process: its CLI, sandbox and checkout. */
  discard(entry: Prewarmed): Promise<void>;
  readonly size: number;
  close(): Promise<void>;
}

/** After a start failure or a process that died unused, the pool waits this long before starting more. */
const BACKOFF_MS = 30_000;

export function createPrewarmPool(opts: PrewarmPoolOptions): PrewarmPool {
  const now = opts.now ?? Date.now;
  const ready = new Map<Prewarmed, { startedAt: number }>();
  const starting = new Map<string, number>();
  /** Handed to a job and not yet exited, by key: refilled when that job's process exits. */
  const serving = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  let keys = [...(opts.initialKeys ?? [])].slice(0, opts.maxKeys);
  let pausedUntil = 0;
  let closed = false;
  const capacity = opts.size * opts.maxKeys;

  const end = async (entry: Prewarmed) => {
    await entry.process.close().catch(() => {});
    await entry.sandbox
      .close()
      .catch((err: unknown) => opts.logger.warn({ err }, "could not close a prewarmed sandbox"));
    await entry.workspace.release().catch(() => {});
  };

  const refill = () => {
    if (closed || opts.size <= 0 || now() < pausedUntil) return;
    const have = new Map<string, number>();
    for (const entry of ready.keys()) have.set(entry.key, (have.get(entry.key) ?? 0) + 1);
    for (const [key, n] of starting) have.set(key, (have.get(key) ?? 0) + n);
    for (const [key, n] of serving) have.set(key, (have.get(key) ?? 0) + n);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const inUse = ready.size + sum(starting) + sum(serving);
    for (const key of shortfall(have, keys, opts.size, capacity - inUse)) {
      starting.set(key, (starting.get(key) ?? 0) + 1);
      const started = opts
        .start(key, randomUUID())
        .then(
          (entry) => {
            if (closed || !keys.includes(key)) return end(entry);
            ready.set(entry, { startedAt: now() });
            opts.onEvent?.("started");
            void entry.process.ready.then((ok) => ok && opts.onEvent?.("ready"));
            void entry.process.exited.then(() => {
              // Died unused (a taken one is no longer in `ready`).
              if (ready.delete(entry)) {
                opts.onEvent?.("died");
                opts.logger.warn({ key }, "a prewarmed CLI process exited unused; pausing the pool");
                pausedUntil = now() + BACKOFF_MS;
                void end(entry);
              }
            });
          },
          (err: unknown) => {
            opts.logger.warn({ err, key }, "could not start a prewarmed CLI process; pausing the pool");
            pausedUntil = now() + BACKOFF_MS;
          },
        )
        .finally(() => {
          starting.set(key, (starting.get(key) ?? 1) - 1);
          inFlight.delete(started);
          refill();
        });
      inFlight.add(started);
    }
  };

  const sweep = () => {
    for (const [entry, { startedAt }] of ready) {
      if (now() - startedAt >= opts.maxAgeMs || !keys.includes(entry.key)) {
        ready.delete(entry);
        opts.onEvent?.("expired");
        void end(entry);
      }
    }
    refill();
  };
  const timer = setInterval(sweep, Math.max(1000, Math.min(opts.maxAgeMs / 4, 30_000)));
  timer.unref();
  queueMicrotask(refill);

  return {
    take(key) {
      if (opts.size <= 0) return undefined;
      keys = touchKey(keys, key, opts.maxKeys);
      let found: Prewarmed | undefined;
      for (const entry of ready.keys()) {
        if (entry.key === key && entry.process.state === "idle") {
          found = entry;
          break;
        }
      }
      opts.onEvent?.(found ? "hit" : "miss");
      if (!found) {
        queueMicrotask(refill);
        return undefined;
      }
      // Its replacement starts once this job's process exits, not now: a CLI start-up beside the
      // job's first turn would slow that turn down on a small machine.
      ready.delete(found);
      const { key: servedKey } = found;
      serving.set(servedKey, (serving.get(servedKey) ?? 0) + 1);
      void found.process.exited
        .catch(() => {})
        .then(() => {
          const left = (serving.get(servedKey) ?? 1) - 1;
          if (left > 0) serving.set(servedKey, left);
          else serving.delete(servedKey);
          refill();
        });
      return found;
    },
    discard: end,
    get size() {
      return ready.size;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      // Those still starting end themselves once started (they see `closed`).
      await Promise.allSettled([...inFlight]);
      const all = [...ready.keys()];
      ready.clear();
      await Promise.all(all.map(end));
    },
  };
}
