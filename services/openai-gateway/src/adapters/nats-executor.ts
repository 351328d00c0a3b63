import { JobEvent, JobRef, JobReply, JobSubmission, SubmitReply, subjects } from "@claude-gateway/contracts";
import { decodeJson, request } from "@claude-gateway/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Executor, JobEvents } from "../ports.js";

/** The executor's NATS micro-service (submit, get, cancel) and its live event subject. */
export function natsExecutor(nc: NatsConnection, opts: { requestTimeoutMs?: number } = {}): Executor {
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const byRef = (subject: string, ref: JobRef) =>
    request(nc, { subject, request: JobRef, response: JobReply, payload: ref, timeoutMs });
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
    async get(ref) {
      return (await byRef(subjects.jobs.get, ref)).job;
    },
    async cancel(ref) {
      return (await byRef(subjects.jobs.cancel, ref)).job;
    },
    events(jobId): JobEvents {
      // Core NATS: the subscription is registered before any later request on this connection.
      const sub = nc.subscribe(subjects.jobs.events(jobId));
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
