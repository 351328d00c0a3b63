import { QueueMessage, subjects } from "@claude-gateway/contracts";
import { ensureStream } from "@claude-gateway/nats";
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { Delivery, JobQueue, QueueConsumer } from "../ports.js";

const { stream, subject, consumer: durable } = subjects.queue;

export interface QueueSetup {
  /** How long a delivered job stays ours without a heartbeat before the queue redelivers it. */
  ackWaitMs: number;
  /** Deliveries after which the queue gives up on a message. */
  maxDeliver: number;
}

/**
 * The work-queue stream and its one durable pull consumer, shared by every replica: a message
 * is removed when acknowledged, FIFO in stream order, redelivered after `ackWaitMs` of silence.
 */
export async function ensureJobQueue(jsm: JetStreamManager, setup: QueueSetup): Promise<void> {
  await ensureStream(jsm, {
    name: stream,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    // Same-id submissions within this window are stored once (idempotent submit).
    duplicate_window: nanos(2 * 60_000),
  });
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(setup.ackWaitMs),
    max_deliver: setup.maxDeliver,
    max_ack_pending: -1,
  };
  const existing = await jsm.consumers.info(stream, durable).catch(() => null);
  if (!existing) await jsm.consumers.add(stream, config);
  else if (
    existing.config.ack_wait !== config.ack_wait ||
    existing.config.max_deliver !== config.max_deliver
  ) {
    await jsm.consumers.update(stream, durable, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
    });
  }
}

export function natsJobQueue(js: JetStreamClient, jsm: JetStreamManager): JobQueue {
  return {
    async enqueue(job) {
      const message = QueueMessage.parse(job);
      // One message per token: a retried publish of the same token is stored once, while a new
      // token (a re-enqueue, a hand-back, a resubmitted id) is never mistaken for a duplicate.
      await js.publish(subject, new TextEncoder().encode(JSON.stringify(message)), {
        msgID: `${message.id}.${message.token ?? ""}`,
      });
    },
    async stats() {
      const info = await jsm.consumers.info(stream, durable);
      return { queued: info.num_pending };
    },
  };
}

export async function natsQueueConsumer(js: JetStreamClient): Promise<QueueConsumer> {
  const consumer: Consumer = await js.consumers.get(stream, durable);
  return {
    async next(waitMs) {
      const msg = await consumer.next({ expires: Math.max(1000, waitMs) });
      if (!msg) return null;
      let job: QueueMessage;
      try {
        job = QueueMessage.parse(msg.json());
      } catch {
        msg.term("not a job message");
        return null;
      }
      const delivery: Delivery = {
        id: job.id,
        caller: job.caller,
        ...(job.token !== undefined ? { token: job.token } : {}),
        deliveryCount: msg.info.deliveryCount,
        working: () => msg.working(),
        ack: async () => {
          await msg.ackAck();
        },
        nak: () => msg.nak(),
      };
      return delivery;
    },
  };
}
