import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  type JobEvent,
  type JobRecord,
  JobRef,
  JobReply,
  JobSubmission,
  jobIdFor,
  SubmitReply,
  subjects,
} from "@claude-gateway/contracts";
import { addService, callerOfRequest, encodeJson, serveEndpoint } from "@claude-gateway/nats";
import { connect } from "@nats-io/transport-node";
import type OpenAI from "openai";

export const ANSWER = "Hello from the instant executor.";

/** The executor's NATS endpoints, answering at once: a job is done as soon as it is submitted. */
export async function instantExecutor(options: Parameters<typeof connect>[0]) {
  const nc = await connect(options);
  const jobs = new Map<string, JobRecord>();
  const svc = await addService(nc, { name: "instant-executor", version: "1.0.0", description: "bench" });
  const at = new Date().toISOString();
  const publish = (caller: string, jobId: string, seq: number, body: Record<string, unknown>) =>
    nc.publish(subjects.jobs.events(caller, jobId), encodeJson({ jobId, seq, at, ...body } as JobEvent));
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.admit,
    name: "admit",
    request: JobSubmission,
    response: SubmitReply,
    handler: async (s, ctx) => {
      const caller = callerOfRequest(ctx.subject, s.caller);
      // As the executor mints it: the gateway listens on this id before submitting.
      const id = s.id !== undefined ? jobIdFor(caller, s.id) : randomUUID();
      const usage = {
        inputTokens: 10,
        outputTokens: 5,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      };
      const queued: JobRecord = {
        id,
        status: "queued",
        agent: s.agent,
        model: s.model ?? "claude-haiku-4-5",
        caller,
        submission: s,
        queuedAt: at,
        attempts: 0,
      };
      jobs.set(id, {
        ...queued,
        status: "succeeded",
        result: { text: ANSWER, sessionId: id, numTurns: 1, permissionDenials: 0 },
        usage,
        costUsd: 0.001,
      });
      // After the reply, as a real job's events are.
      setImmediate(() => {
        publish(caller, id, 0, { type: "status", status: "running" });
        publish(caller, id, 1, { type: "text", delta: ANSWER });
        publish(caller, id, 2, { type: "result", text: ANSWER, sessionId: id, costUsd: 0.001, usage });
        publish(caller, id, 3, { type: "status", status: "succeeded" });
      });
      return { job: queued, duplicate: false };
    },
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.get,
    name: "get",
    request: JobRef,
    response: JobReply,
    handler: async (ref) => {
      const job = jobs.get(ref.id);
      if (!job) throw new Error(`no job ${ref.id}`);
      return { job };
    },
  });
  return { close: () => nc.drain() };
}

/** One non-streaming completion through the openai SDK; its milliseconds. */
export async function completion(client: OpenAI): Promise<number> {
  const started = performance.now();
  const c = await client.chat.completions.create({
    model: "claude-haiku-4-5",
    messages: [{ role: "user", content: "Say hello." }],
  });
  const elapsed = performance.now() - started;
  if (c.choices[0]?.message.content !== ANSWER) throw new Error(`unexpected answer: ${JSON.stringify(c)}`);
  return elapsed;
}
