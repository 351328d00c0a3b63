import { randomUUID } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { ServiceMetrics } from "./metrics.js";

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

/** `/healthz` (alive), `/readyz` (ready to take work, or why not) and `/metrics`, all open. */
export function operationalRoutes<E extends object>(
  // biome-ignore lint/suspicious/noExplicitAny: any app env; these routes read nothing from it
  app: Hono<E & any>,
  deps: { readiness: () => Readiness; metrics: Pick<ServiceMetrics, "registry"> },
): void {
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => {
    const r = deps.readiness();
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}
