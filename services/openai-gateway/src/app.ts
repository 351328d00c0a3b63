import { randomUUID } from "node:crypto";
import type { AuthEnv, AuthFailure } from "@claude-gateway/auth";
import type { ModelPolicy } from "@claude-gateway/contracts";
import { type PolicyGate, usageHandler } from "@claude-gateway/policy";
import { operationalRoutes, requestContext } from "@claude-gateway/service-kit";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { type ImageResolver, imageResolver } from "./adapters/image-fetch.js";
import { errorStyleOf, renderError } from "./core/error-style.js";
import {
  CallerLimitError,
  fromAuthFailure,
  InternalError,
  JobFailedError,
  PayloadTooLargeError,
  PlanLimitError,
  RouteNotFoundError,
  toClientError,
} from "./core/errors.js";
import type { AppEnv } from "./http.js";
import { InFlight } from "./inflight.js";
import type { JobRequestDeps, JobSettings } from "./job-request.js";
import type { Metrics } from "./metrics.js";
import type { Executor } from "./ports.js";
import { chatRoutes } from "./routes/chat.js";
import { messagesRoutes } from "./routes/messages.js";
import { modelRoutes } from "./routes/models.js";
import { responseRoutes } from "./routes/responses.js";

export interface AppDeps {
  executor: Executor;
  /** The caller policy: what each caller may run, how much and how often. */
  gate: PolicyGate;
  /** `createAuth(config, { onError: onAuthError })`: failures in the OpenAI shape. */
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  models: ModelPolicy;
  job: JobSettings;
  /** The scraper's token for `/metrics` (`METRICS_TOKEN`); without it `/metrics` is a 503. */
  metricsToken?: string | undefined;
  /** Ready to take work: NATS connected. */
  readiness: () => { ready: boolean; reason?: string };
  inflight?: InFlight;
  /** Default 15 s. */
  idleMs?: number;
  /** Default 5 s. */
  holdMs?: number;
  now?: () => Date;
  newId?: () => string;
  /** Default: inline images only (no URL is fetched). */
  images?: ImageResolver;
  /** Default 4 MiB: a prompt may hold a million characters. */
  maxBodyBytes?: number;
}

/** The answer to a failed authentication in the API's shape, for `createAuth`'s `onError`. */
export function onAuthError(c: Context, failure: AuthFailure): Response {
  const { status, body } = renderError(errorStyleOf(c.req.path), fromAuthFailure(failure));
  return c.json(body, status as ContentfulStatusCode);
}

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const now = deps.now ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? 4 * 1024 * 1024;

  app.use(requestContext(deps));
  operationalRoutes(app, deps);

  const v1 = new Hono<AppEnv>();
  v1.use(deps.auth);
  v1.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new PayloadTooLargeError(maxBodyBytes);
      },
    }),
  );
  // What every API's requests share: each is one executor job.
  const jobs: JobRequestDeps = {
    executor: deps.executor,
    gate: deps.gate,
    models: deps.models,
    job: deps.job,
    metrics: deps.metrics,
    inflight: deps.inflight ?? new InFlight(),
    idleMs: deps.idleMs ?? 15_000,
    holdMs: deps.holdMs ?? 5_000,
    now,
    newId: deps.newId ?? randomUUID,
    images: deps.images ?? imageResolver({ allowlist: [] }),
  };
  v1.route("/", chatRoutes(jobs));
  v1.route("/", messagesRoutes(jobs));
  v1.route("/", responseRoutes(jobs));
  v1.route("/", modelRoutes({ models: deps.models, created: Math.floor(now().getTime() / 1000) }));
  // Not an OpenAI route: the caller's limits and what it used today (an admin's: everyone's).
  v1.get("/usage", usageHandler(deps.gate));
  app.route("/v1", v1);

  app.notFound((c) => {
    const { status, body } = renderError(
      errorStyleOf(c.req.path),
      new RouteNotFoundError(c.req.method, c.req.path),
    );
    return c.json(body, status as ContentfulStatusCode);
  });
  app.onError((err, c) => {
    const known = toClientError(err);
    const error = known ?? new InternalError();
    if (!known) c.get("log")?.error({ err }, "unhandled error");
    else if (error.status >= 500)
      c.get("log")?.warn({ err: error.message, code: error.code }, "request failed");
    if ("retryAfterSeconds" in error) c.header("Retry-After", String(error.retryAfterSeconds));
    if (
      (error instanceof CallerLimitError ||
        error instanceof JobFailedError ||
        error instanceof PlanLimitError) &&
      !error.worthRetrying
    ) {
      c.header("x-should-retry", "false");
    }
    const { status, body } = renderError(errorStyleOf(c.req.path), error);
    return c.json(body, status as ContentfulStatusCode);
  });
  return app;
}
