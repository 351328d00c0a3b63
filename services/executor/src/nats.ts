import { JobRef, JobReply, JobSubmission, SubmitReply, services, subjects } from "@claude-gateway/contracts";
import { addService, serveEndpoint } from "@claude-gateway/nats";
import type { Logger } from "@claude-gateway/service-kit";
import type { NatsConnection } from "@nats-io/nats-core";
import { BadRequestError } from "./errors.js";
import type { ExecutorService } from "./service.js";

/**
 * The executor's NATS micro-service: submit, get and cancel as request-reply endpoints in one
 * queue group, so replicas share them; discoverable through `$SRV.*`.
 */
export async function serveExecutorNats(
  nc: NatsConnection,
  deps: { service: ExecutorService; logger: Logger },
): Promise<Awaited<ReturnType<typeof addService>>> {
  const svc = await addService(nc, { ...services.executor, description: "Runs Claude agent jobs" });
  serveEndpoint(svc, {
    subject: subjects.jobs.submit,
    name: "submit",
    request: JobSubmission,
    response: SubmitReply,
    logger: deps.logger,
    // Until the bus authenticates its users, a NATS submit names the principal it is for (the
    // service that authenticated that caller sets it; see the README).
    handler: (req) => {
      if (req.caller === undefined) {
        throw new BadRequestError("invalid_request", "a NATS submit names its caller (a principal)", [
          { path: "caller", message: "required over NATS" },
        ]);
      }
      return deps.service.submit(req, req.caller, { admitted: req.admitted === true });
    },
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.get,
    name: "get",
    request: JobRef,
    response: JobReply,
    logger: deps.logger,
    handler: async (req) => ({ job: await deps.service.get(req.id, req.caller) }),
  });
  serveEndpoint(svc, {
    subject: subjects.jobs.cancel,
    name: "cancel",
    request: JobRef,
    response: JobReply,
    logger: deps.logger,
    handler: async (req) => ({
      job: await deps.service.cancel(req.id, req.caller, `cancelled over NATS by ${req.caller}`),
    }),
  });
  return svc;
}
