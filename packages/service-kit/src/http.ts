import { randomUUID } from "node:crypto";
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";
import { errorBody, ServiceError, toServiceError } from "./errors.js";
import { isJsonMediaType } from "./media-type.js";
import type { ServiceMetrics } from "./metrics.js";
import { metricsGuard } from "./metrics-access.js";

/** What `requestContext` puts on `c.var`. */
export interface RequestVariables {
  requestId: string;
  /** A child logger carrying the request id. */
  log: Logger;
}

/**
 * Per request: an id (taken from `x-request-id` or minted, echoed back), a child logger carrying
 * it, and the latency histogram by route and status.
 */
export function requestContext(deps: {
  logger: Logger;
  metrics: Pick<ServiceMetrics, "httpDuration">;
}): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    const requestId = c.req.header("x-request-id") ?? randomUUID();
    c.set("requestId", requestId);
    c.set("log", deps.logger.child({ requestId }));
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    deps.metrics.httpDuration.observe(
      { method: c.req.method, route: c.req.routePath ?? "unmatched", status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  };
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

/**
 * `/healthz` (alive) and `/readyz` (ready to take work, or why not), open to probes; `/metrics`
 * only with the metrics token (`metricsGuard`: without `metricsToken` it answers 503). Mount them
 * outside the callers' auth: the scraper is not a caller.
 */
export function operationalRoutes<E extends object>(
  // biome-ignore lint/suspicious/noExplicitAny: any app env; these routes read nothing from it
  app: Hono<E & any>,
  deps: {
    readiness: () => Readiness;
    metrics: Pick<ServiceMetrics, "registry">;
    /** `ServiceConfig.metricsToken`: the scraper's bearer token; absent, nobody reads `/metrics`. */
    metricsToken?: string | undefined;
  },
): void {
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => {
    const r = deps.readiness();
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", metricsGuard(deps.metricsToken), async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}

/** Answers with a service error's envelope and status (and `Retry-After` when it has one). */
export function sendError(c: Context, err: ServiceError): Response {
  if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
  return c.json(errorBody(err), err.status as ContentfulStatusCode);
}

/**
 * The one `app.onError` of a service: whatever was thrown, as its envelope. A 5xx is logged with
 * the real error (the client only gets a one-line detail): a 500 (our bug) as an error, another
 * 5xx (something we depend on is down) as a warning.
 */
export function serviceErrorHandler(logger: Pick<Logger, "error" | "warn">) {
  return (thrown: unknown, c: Context): Response => {
    const err = toServiceError(thrown);
    if (err.status >= 500) {
      const log = (c.get("log") as Logger | undefined) ?? logger;
      log[err.status === 500 ? "error" : "warn"]({ err: thrown, code: err.code }, "request failed");
    }
    return sendError(c, err);
  };
}

/** `app.notFound`: a 404 `not_found` envelope naming the route. */
export function routeNotFound(c: Context): Response {
  return sendError(c, new ServiceError(404, "not_found", `no route ${c.req.method} ${c.req.path}`));
}

/**
 * The JSON body of a request: 415 `unsupported_media_type` unless its media type is
 * `application/json` (`isJsonMediaType`), 400 `invalid_json` when it does not parse.
 */
export async function readJsonBody(c: Context, what = "the body"): Promise<unknown> {
  if (!isJsonMediaType(c.req.header("content-type"))) {
    throw new ServiceError(415, "unsupported_media_type", `send ${what} as application/json`);
  }
  try {
    return await c.req.json();
  } catch {
    throw new ServiceError(400, "invalid_json", `${what} is not valid JSON`);
  }
}
