import {
  JobRef,
  JobReply,
  JobSubmission,
  SubmitReply,
  services,
  subjects,
  ToolResults,
  ToolResultsReply,
} from "@claude-gateway/contracts";
import {
  addService,
  callerOfRequest,
  type EndpointContext,
  request,
  serveEndpoint,
} from "@claude-gateway/nats";
import type { Logger } from "@claude-gateway/service-kit";
import { ServiceError } from "@claude-gateway/service-kit";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ExecutorService } from "./service.js";
import { supplyHeldToolResults, type ToolHolds } from "./tool-results.js";

/**
 * The executor's NATS micro-service: submit, admit, get and cancel as request-reply endpoints in
 * one queue group, so replicas share them; discoverable through `$SRV.*`.
 */
export async function serveExecutorNats(
  nc: NatsConnection,
  deps: {
    service: ExecutorService;
    logger: Logger;
    /** This replica's jobs paused on tool calls, and its id (where others forward their results). */
    tools?: { holds: ToolHolds; executorId: string };
  },
): Promise<Awaited<ReturnType<typeof addService>>> {
  const svc = await addService(nc, { ...services.executor, description: "Runs Claude agent jobs" });
  // Each family listens for every caller; the caller is the subject's last token, which the bus's
  // permissions let only that caller (or a service acting for a caller it authenticated) publish.
  const submit = (admitted: boolean) => (req: JobSubmission, ctx: EndpointContext) =>
    deps.service.submit(req, callerOfRequest(ctx.subject, req.caller), { admitted });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.submit,
    name: "submit",
    request: JobSubmission,
    response: SubmitReply,
    logger: deps.logger,
    handler: submit(false),
  });
  // Only the gateway's user may publish here: it checked and counted the caller's policy already.
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.admit,
    name: "admit",
    request: JobSubmission,
    response: SubmitReply,
    logger: deps.logger,
    handler: submit(true),
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.get,
    name: "get",
    request: JobRef,
    response: JobReply,
    logger: deps.logger,
    handler: async (req, ctx) => ({
      job: await deps.service.get(req.id, callerOfRequest(ctx.subject, req.caller)),
    }),
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.cancel,
    name: "cancel",
    request: JobRef,
    response: JobReply,
    logger: deps.logger,
    handler: async (req, ctx) => {
      const caller = callerOfRequest(ctx.subject, req.caller);
      return { job: await deps.service.cancel(req.id, caller, `cancelled over NATS by ${caller}`) };
    },
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.serve.tools,
    name: "tools",
    request: ToolResults,
    response: ToolResultsReply,
    logger: deps.logger,
    handler: (req, ctx) =>
      deps.service.supplyToolResults(req.id, callerOfRequest(ctx.subject, req.caller), req.results),
  });
  const tools = deps.tools;
  if (tools) {
    // Results another replica took for a job this one holds (only executors publish here; the
    // forwarding replica names the job's owner).
    serveEndpoint(svc, {
      subject: subjects.jobs.toolsAt(tools.executorId),
      name: "tools-held",
      request: ToolResults,
      response: ToolResultsReply,
      logger: deps.logger,
      handler: (req) => {
        if (req.caller === undefined) throw new ServiceError(400, "invalid_request", "caller is required");
        return supplyHeldToolResults(tools.holds, { ...req, caller: req.caller });
      },
    });
  }
  return svc;
}

/** Forwards results to the replica holding the job (`ServiceUnavailableError` when it is gone). */
export function forwardToolResults(nc: NatsConnection) {
  return (executorId: string, payload: ToolResults & { caller: string }) =>
    request(nc, {
      subject: subjects.jobs.toolsAt(executorId),
      request: ToolResults,
      response: ToolResultsReply,
      payload,
      timeoutMs: 10_000,
    });
}
