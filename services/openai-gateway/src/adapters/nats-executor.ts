import { JobEvent, JobRef, JobReply, JobSubmission, SubmitReply, subjects } from "@claude-gateway/contracts";
import { decodeJson, request } from "@claude-gateway/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { CallerJobRef, Executor, JobEvents } from "../ports.js";

/**
 * The executor's NATS micro-service and its live event subjects, for callers this gateway
 * authenticated: every subject names the caller (`agent.v1.jobs.admit.<principal>`, …). Submissions
 * go to the admit subject: this gateway already checked and counted them against the caller's policy.
 */
export function natsExecutor(nc: NatsConnection, opts: { requestTimeoutMs?: number } = {}): Executor {
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const byRef = (subject: string, ref: CallerJobRef) =>
    request(nc, { subject, request: JobRef, response: JobReply, payload: { id: ref.id }, timeoutMs });
  return {
    async submit(submission) {
      const { caller, ...payload } = submission;
      const reply = await request(nc, {
        subject: subjects.jobs.admit(caller),
        request: JobSubmission,
        response: SubmitReply,
        payload,
        timeoutMs,
      });
      return reply.job;
    },
    async get(ref) {
      return (await byRef(subjects.jobs.get(ref.caller), ref)).job;
    },
    async cancel(ref) {
      return (await byRef(subjects.jobs.cancel(ref.caller), ref)).job;
    },
    events(caller, jobId): JobEvents {
      // Core NATS: the subscription is registered before any later request on this connection.
      const sub = nc.subscribe(subjects.jobs.events(caller, jobId));
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
