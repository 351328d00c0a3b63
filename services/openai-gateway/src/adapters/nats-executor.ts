import { randomUUID } from "node:crypto";
import {
  JobEvent,
  type JobRecord,
  JobRef,
  JobReply,
  JobSubmission,
  payloadObjects,
  previewOf,
  SubmitReply,
  subjects,
  ToolResults,
  ToolResultsReply,
} from "@claude-gateway/contracts";
import { decodeJson, type Payloads, request } from "@claude-gateway/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import { UnavailableError } from "../core/errors.js";
import type { CallerJobRef, Executor, JobEvents } from "../ports.js";

/**
 * The executor's NATS micro-service and its live event subjects, for callers this gateway
 * authenticated: every subject names the caller (`agent.v1.jobs.admit.<principal>`, …). Submissions
 * go to the admit subject: this gateway already checked and counted them against the caller's policy.
 */
/**
 * A structured reply too large for the record is stored as its JSON text only (the record then holds
 * no `structuredOutput`): the object is that text, parsed.
 */
function structuredFrom(job: JobRecord, text: string): { structuredOutput?: unknown } {
  if (!job.submission.jsonSchema || job.result?.structuredOutput !== undefined) return {};
  try {
    return { structuredOutput: JSON.parse(text) };
  } catch {
    return {};
  }
}

export function natsExecutor(
  nc: NatsConnection,
  opts: { requestTimeoutMs?: number; payloads?: Payloads } = {},
): Executor {
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const byRef = (subject: string, ref: CallerJobRef) =>
    request(nc, { subject, request: JobRef, response: JobReply, payload: { id: ref.id }, timeoutMs });
  // A prompt over a quarter of what one message carries travels through the payload store: the
  // executor's record of it must fit in a message with room for the reply.
  const maxInlinePromptBytes = Math.floor((nc.info?.max_payload ?? 1024 * 1024) / 4);
  /** The job as the client should see it: a reply kept in the payload store, whole. */
  const whole = async (job: JobRecord): Promise<JobRecord> => {
    const ref = job.result?.textRef;
    if (!job.result || !ref || !opts.payloads) return job;
    const text = await opts.payloads.get(ref).catch((err: unknown) => {
      throw new UnavailableError(
        "payload_store_unavailable",
        "The reply could not be read from the payload store.",
        {
          cause: err,
        },
      );
    });
    return { ...job, result: { ...job.result, text, ...structuredFrom(job, text) } };
  };
  return {
    async submit(submission) {
      const { caller, ...inline } = submission;
      let payload: typeof inline = inline;
      const store = async (text: string, what: string) => {
        const object = payloadObjects.incoming(caller, randomUUID());
        return opts.payloads!.put(object, text).catch((err: unknown) => {
          throw new UnavailableError(
            "payload_store_unavailable",
            `The ${what} could not be stored for the executor.`,
            {
              cause: err,
            },
          );
        });
      };
      // Images travel through the payload store as soon as the job would not fit a message with them
      // inline (one image alone can be 5 MB).
      if (
        opts.payloads &&
        payload.images &&
        Buffer.byteLength(JSON.stringify(payload)) > maxInlinePromptBytes
      ) {
        const images = await Promise.all(
          payload.images.map(async (image) =>
            image.data === undefined
              ? image
              : { mediaType: image.mediaType, ref: await store(image.data, "image") },
          ),
        );
        payload = { ...payload, images };
      }
      // Measured as it travels, JSON-escaped: a prompt of control characters takes 6 bytes for each.
      if (opts.payloads && Buffer.byteLength(JSON.stringify(payload.prompt)) > maxInlinePromptBytes) {
        const promptRef = await store(payload.prompt, "prompt");
        payload = { ...payload, prompt: previewOf(payload.prompt), promptRef };
      }
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
      return whole((await byRef(subjects.jobs.get(ref.caller), ref)).job);
    },
    async cancel(ref) {
      return (await byRef(subjects.jobs.cancel(ref.caller), ref)).job;
    },
    supplyToolResults(ref, results) {
      return request(nc, {
        subject: subjects.jobs.tools(ref.caller),
        request: ToolResults,
        response: ToolResultsReply,
        payload: { id: ref.id, results },
        timeoutMs,
      });
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
