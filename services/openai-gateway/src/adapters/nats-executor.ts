import { JobEvent, JobRef, JobReply, JobSubmission, SubmitReply, subjects } from "@claude-gateway/contracts";
import { decodeJson, request } from "@claude-gateway/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Executor, JobEvents } from "../ports.js";

/** The executor's NATS micro-service (submit, get, cancel) and its live event subject. */
export function natsExecutor(nc: NatsConnection, opts: { requestTimeoutMs?: number } = {}): Executor {
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const byId = (subject: string, id: string) =>
    request(nc, { subject, request: JobRef, response: JobReply, payload: { id }, timeoutMs });
  return {
    async submit(submission) {
      const reply = await request(nc, {
        subject: subjects.jobs.submit,
        request: JobSubmission,
        response: SubmitReply,
        payload: submission,
        timeoutMs,
      });
      return reply.job;
    },
    async get(id) {
      return (await byId(subjects.jobs.get, id)).job;
    },
    async cancel(id) {
      return (await byId(subjects.jobs.cancel, id)).job;
    },
    events(id): JobEvents {
      // Core NATS: the subscription is registered before any later request on this connection.
      const sub = nc.subscribe(subjects.jobs.events(id));
      return {
        async *[Symbol.asyncIterator]() {
          for await (const msg of sub) {
            const event = decodeJson(msg.data, JobEvent);
            if (event.ok) yield event.value;
          }
        },
        close: () => sub.unsubscribe(),
      };
    },
  };
}
