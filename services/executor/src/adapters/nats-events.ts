import { CancelBroadcast, JobEvent, subjects } from "@claude-gateway/contracts";
import type { Logger } from "@claude-gateway/service-kit";
import type { NatsConnection } from "@nats-io/nats-core";
import type { CancelBus, EventPublisher } from "../ports.js";

const encoder = new TextEncoder();

/**
 * Live job events on `agent.v1.jobs.events.<caller>.<id>` (core NATS: fast, not durable), under the
 * job's caller so a caller's subscribe permission can say "only your own jobs".
 */
export function natsEventPublisher(nc: NatsConnection, logger?: Logger): EventPublisher {
  return {
    publish(event, caller) {
      // Events are at most once: one that cannot go out (larger than the server's max_payload, a
      // closed connection) is logged, never the job's failure; the record is the truth.
      try {
        nc.publish(
          subjects.jobs.events(caller, event.jobId),
          encoder.encode(JSON.stringify(JobEvent.parse(event))),
        );
      } catch (err) {
        logger?.warn({ jobId: event.jobId, type: event.type, err }, "could not publish a job event");
      }
    },
  };
}

export function natsCancelBus(nc: NatsConnection): CancelBus {
  return {
    async broadcast(id, reason) {
      nc.publish(
        subjects.jobs.cancelBroadcast,
        encoder.encode(JSON.stringify(CancelBroadcast.parse({ id, reason }))),
      );
      await nc.flush();
    },
  };
}

/** Every replica listens; the one running the job stops it. Returns an unsubscribe function. */
export function onCancelBroadcast(nc: NatsConnection, handler: (msg: CancelBroadcast) => void): () => void {
  const sub = nc.subscribe(subjects.jobs.cancelBroadcast, {
    callback: (err, msg) => {
      if (err) return;
      const parsed = CancelBroadcast.safeParse(safeJson(msg.data));
      if (parsed.success) handler(parsed.data);
    },
  });
  return () => sub.unsubscribe();
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
