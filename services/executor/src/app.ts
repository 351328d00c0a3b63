import type { AuthEnv } from "@claude-gateway/auth";
import { type ErrorBody, issuesOf, JobSubmission } from "@claude-gateway/contracts";
import {
  operationalRoutes,
  type Readiness,
  type RequestVariables,
  requestContext,
} from "@claude-gateway/service-kit";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import { BadRequestError, ExecutorError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import type { ExecutorService } from "./service.js";

export interface HealthSnapshot {
  busy: boolean;
  active: number;
  queued: number;
  capacity: number;
}

export interface AppDeps {
  service: ExecutorService;
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  health: () => Promise<HealthSnapshot>;
  /** Ready to take work: NATS connected, queue reachable. */
  readiness: () => Readiness;
  maxBodyBytes?: number;
}

type Env = AuthEnv & { Variables: RequestVariables };

const errorBody = (code: string, message: string, extra: Partial<ErrorBody["error"]> = {}): ErrorBody => ({
  error: { code, message, ...extra },
});

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();

  app.use(requestContext(deps));
  operationalRoutes(app, deps);
  app.get("/health", async (c) => c.json(await deps.health()));

  const jobs = new Hono<Env>();
  jobs.use(deps.auth);
  jobs.post(
    "/execute",
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 2 * 1024 * 1024,
      onError: (c) => c.json(errorBody("body_too_large", "the request body is too large"), 413),
    }),
    async (c) => {
      const body = await readJson(c);
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
      const { job, duplicate } = await deps.service.submit(parsed.data, principal.name);
      c.get("log").info(
        { jobId: job.id, caller: principal.name, agent: job.agent, duplicate },
        "job submitted",
      );
      return c.json({ jobId: job.id, status: job.status, duplicate, job }, 202);
    },
  );
  jobs.get("/jobs/:id", async (c) => c.json({ job: await deps.service.get(c.req.param("id")) }));
  jobs.delete("/jobs/:id", async (c) => {
    const job = await deps.service.cancel(c.req.param("id"), `cancelled by ${c.get("principal").name}`);
    return c.json({ job }, 202);
  });
  app.route("/", jobs);

  app.notFound((c) => c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof ExecutorError) {
      if (err.status === 429)
        c.header("Retry-After", String((err as { retryAfterSeconds?: number }).retryAfterSeconds ?? 5));
      const issues = (err as { issues?: ErrorBody["error"]["issues"] }).issues;
      const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
      return c.json(
        errorBody(err.code, err.message, {
          ...(issues ? { issues } : {}),
          ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
        }),
        err.status,
      );
    }
    c.get("log")?.error({ err }, "unhandled error");
    return c.json(errorBody("internal", "internal error; see the executor's logs"), 500);
  });
  return app;
}

async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/json")) {
    throw new BadRequestError("unsupported_media_type", "send the job as application/json");
  }
  try {
    return await c.req.json();
  } catch {
    throw new BadRequestError("invalid_json", "the body is not valid JSON");
  }
}
