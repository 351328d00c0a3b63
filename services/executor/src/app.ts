import type { AuthEnv } from "@claude-gateway/auth";
import { issuesOf, type JobRecord, JobSubmission, ToolResults } from "@claude-gateway/contracts";
import { type PolicyGate, usageHandler } from "@claude-gateway/policy";
import {
  operationalRoutes,
  type Readiness,
  type RequestVariables,
  readJsonBody,
  requestContext,
  routeNotFound,
  ServiceError,
  sendError,
  serviceErrorHandler,
} from "@claude-gateway/service-kit";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { wholeResult } from "./core/records.js";
import { BadRequestError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import type { Payloads } from "./ports.js";
import type { ExecutorService } from "./service.js";

export interface HealthSnapshot {
  busy: boolean;
  active: number;
  queued: number;
  capacity: number;
}

export interface AppDeps {
  service: ExecutorService;
  gate: PolicyGate;
  /** The scraper's bearer token for `/metrics` (without it `/metrics` answers 503). */
  metricsToken?: string | undefined;
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  health: () => Promise<HealthSnapshot>;
  /** Ready to take work: NATS connected, queue reachable. */
  readiness: () => Readiness;
  maxBodyBytes?: number;
  /** Where replies too large for a record are: `GET /jobs/:id` answers them whole. */
  payloads?: Payloads;
}

type Env = AuthEnv & { Variables: RequestVariables };

/** `POST /jobs/:id/tool-results`: the results alone (the job is the path's, the caller the credentials'). */
const ToolResultsBody = ToolResults.pick({ results: true }).strict();

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();

  /** HTTP carries what the bus does not: a reply kept in the payload store is answered whole. */
  const wholeReply = async (job: JobRecord): Promise<JobRecord> => {
    const ref = job.result?.textRef;
    if (!job.result || !ref || !deps.payloads) return job;
    const text = await deps.payloads.get(ref).catch((err: unknown) => {
      throw new ServiceError(
        503,
        "payload_unavailable",
        "the job's reply could not be read from the payload store",
        {
          cause: err,
        },
      );
    });
    return { ...job, result: wholeResult(job.result, text, job.submission.jsonSchema !== undefined) };
  };

  app.use(requestContext(deps));
  operationalRoutes(app, deps);
  app.get("/health", async (c) => c.json(await deps.health()));

  const jobs = new Hono<Env>();
  jobs.use(deps.auth);
  jobs.post(
    "/execute",
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 2 * 1024 * 1024,
      onError: (c) => sendError(c, new ServiceError(413, "body_too_large", "the request body is too large")),
    }),
    async (c) => {
      const body = await readJsonBody(c, "the job");
      const parsed = JobSubmission.safeParse(body);
      if (!parsed.success) {
        throw new BadRequestError("invalid_request", "the job is not valid", issuesOf(parsed.error));
      }
      if (parsed.data.caller !== undefined) {
        throw new BadRequestError("invalid_request", "caller is set from your credentials, not the body", [
          { path: "caller", message: "not allowed over HTTP" },
        ]);
      }
      const principal = c.get("principal");
      const { job, duplicate } = await deps.service.submit(parsed.data, principal.id);
      c.get("log").info(
        { jobId: job.id, clientId: job.clientId, caller: principal.id, agent: job.agent, duplicate },
        "job submitted",
      );
      return c.json({ jobId: job.id, status: job.status, duplicate, job }, 202);
    },
  );
  jobs.get("/jobs", async (c) => {
    const limit = c.req.query("limit");
    const page = await deps.service.list(c.get("principal").id, {
      ...(limit !== undefined ? { limit: positiveInt(limit, "limit") } : {}),
      ...(c.req.query("after") !== undefined ? { after: c.req.query("after")! } : {}),
      ...(c.req.query("caller") !== undefined ? { caller: c.req.query("caller")! } : {}),
    });
    return c.json(page);
  });
  jobs.get("/jobs/:id", async (c) =>
    c.json({ job: await wholeReply(await deps.service.get(c.req.param("id"), c.get("principal").id)) }),
  );
  // The caller's results for its job paused on the model's calls of its tools (client tool calling).
  jobs.post("/jobs/:id/tool-results", async (c) => {
    const parsed = ToolResultsBody.safeParse(await readJsonBody(c, "the tool results"));
    if (!parsed.success) {
      throw new BadRequestError("invalid_request", "the tool results are not valid", issuesOf(parsed.error));
    }
    const principal = c.get("principal");
    const reply = await deps.service.supplyToolResults(c.req.param("id"), principal.id, parsed.data.results);
    return c.json(reply);
  });
  jobs.delete("/jobs/:id", async (c) => {
    const principal = c.get("principal");
    const job = await deps.service.cancel(c.req.param("id"), principal.id, `cancelled by ${principal.id}`);
    return c.json({ job }, 202);
  });
  jobs.get("/v1/usage", usageHandler(deps.gate));
  app.route("/", jobs);

  app.notFound(routeNotFound);
  app.onError(serviceErrorHandler(deps.logger));
  return app;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new BadRequestError("invalid_request", `${name} must be a positive integer`, [
      { path: name, message: "a positive integer" },
    ]);
  }
  return n;
}
