import { type Logger, silentLogger } from "@claude-gateway/service-kit";
import { z } from "zod";

/** The few KV operations a replica's liveness lease needs (NATS KV in production). */
export interface LeaseKv {
  put(key: string, value: Uint8Array): Promise<void>;
  /** The live value; null for a missing or deleted key. */
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
}

/** Liveness of the conversational replicas, as the others see it. */
export interface ReplicaLeases {
  /** Writes this replica's lease, then renews it every third of the lease until `stop`. */
  start(): Promise<void>;
  /**
   * Whether `replicaId` renewed its lease within the lease: false when it stopped renewing (killed,
   * frozen, cut off from NATS) or stopped cleanly. A store that cannot answer says true: the
   * caller's own timeouts decide then.
   */
  alive(replicaId: string): Promise<boolean>;
  /** Stops renewing and deletes this replica's lease: the others take its conversations at once. */
  stop(): Promise<void>;
}

export const replicaKey = (replicaId: string) => `replica.${replicaId}`;

const LeaseValue = z.object({ replica: z.string(), renewedAt: z.iso.datetime() });

/** Whether a lease renewed at `renewedAt` (ISO) still holds at `now`. */
export function leaseHolds(renewedAt: string, now: Date, leaseMs: number): boolean {
  return now.getTime() - Date.parse(renewedAt) <= leaseMs;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One key per replica (`replica.<id>`) renewed every third of `leaseMs`: a replica that stops
 * renewing it counts as gone after `leaseMs`, so a turn forwarded to it, or waiting on it, is taken
 * over in seconds instead of waiting for the turn's whole deadline.
 */
export function replicaLeases(
  kv: LeaseKv,
  opts: { replicaId: string; leaseMs: number; now?: () => Date; logger?: Logger },
): ReplicaLeases {
  const now = opts.now ?? (() => new Date());
  const log = opts.logger ?? silentLogger;
  const key = replicaKey(opts.replicaId);
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const renew = () =>
    kv.put(key, encoder.encode(JSON.stringify({ replica: opts.replicaId, renewedAt: now().toISOString() })));
  return {
    async start() {
      await renew();
      timer = setInterval(
        () => {
          renewing = renew().catch((err: unknown) =>
            log.warn({ err }, "could not renew this replica's lease"),
          );
        },
        Math.max(1, Math.floor(opts.leaseMs / 3)),
      );
      timer.unref();
    },
    async alive(replicaId) {
      let data: Uint8Array | null;
      try {
        data = await kv.get(replicaKey(replicaId));
      } catch (err) {
        log.warn({ err, replicaId }, "could not read a replica's lease");
        return true;
      }
      if (data === null) return false;
      try {
        const value = LeaseValue.safeParse(JSON.parse(decoder.decode(data)));
        return value.success && leaseHolds(value.data.renewedAt, now(), opts.leaseMs);
      } catch {
        return false;
      }
    },
    async stop() {
      clearInterval(timer);
      await renewing;
      await kv
        .delete(key)
        .catch((err: unknown) => log.warn({ err }, "could not delete this replica's lease"));
    },
  };
}
