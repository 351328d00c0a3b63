import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { AuthEnv } from "@claude-gateway/auth";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type MiddlewareHandler } from "hono";
import { except } from "hono/combine";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import type { ChatService } from "./chat.js";
import type { ErrorBody } from "./core/wire.js";
import { BreakglassError } from "./errors.js";
import type { Metrics } from "./metrics.js";
import { chatRoutes } from "./routes/chat.js";
import { vmRoutes } from "./routes/vm.js";
import type { VmService } from "./vm.js";

export interface AppDeps {
  chat: ChatService;
  vm: VmService;
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  /** The built web UI (`dist/ui`); `/` answers 404 when it is missing. */
  uiDir?: string;
  /** Comment lines sent on quiet streams so proxies keep them open. */
  keepaliveMs?: number;
}

export type Env = AuthEnv & { Variables: { log: Logger; requestId: string } };

export const errorBody = (
  code: string,
  message: string,
  extra: Partial<ErrorBody["error"]> = {},
): ErrorBody => ({
  error: { code, message, ...extra },
});

/**
 * Open without credentials: liveness, readiness and the UI's static shell (it holds no secret and
 * must load to ask a bearer user for a token). Everything else, unknown paths included, is
 * authenticated first: fail closed.
 */
function isPublic(method: string, path: string): boolean {
  if (path === "/healthz" || path === "/readyz") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  return (
    path === "/" || path === "/index.html" || path === "/favicon.svg" || /^\/assets\/[\w.-]+$/.test(path)
  );
}

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();
  const keepaliveMs = deps.keepaliveMs ?? 15_000;

  app.use(async (c, next) => {
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
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        // Svelte sets element styles inline.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
      referrerPolicy: "no-referrer",
    }),
  );
  app.use(except((c) => isPublic(c.req.method, c.req.path), deps.auth));

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => c.json({ ready: true }));
  app.get("/metrics", async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  app.get("/api/me", (c) => c.json({ name: c.get("principal").name, via: c.get("principal").via }));
  app.route("/api/sessions", chatRoutes(deps.chat, { keepaliveMs }));
  app.route("/api/vm", vmRoutes(deps.vm, { keepaliveMs }));

  if (deps.uiDir) {
    const root = deps.uiDir;
    // Asset names carry a content hash; the shell itself must always be fetched fresh.
    app.use("/assets/*", async (c, next) => {
      await next();
      if (c.res.status === 200) c.res.headers.set("cache-control", "public, max-age=31536000, immutable");
    });
    app.get("/assets/*", serveStatic({ root }));
    const index = serveStatic({ path: join(root, "index.html") });
    app.on("GET", ["/", "/index.html"], async (c, next) => {
      await next();
      if (c.res.status === 200) c.res.headers.set("cache-control", "no-cache");
    });
    app.get("/", index);
    app.get("/index.html", index);
    app.get("/favicon.svg", serveStatic({ path: join(root, "favicon.svg") }));
  }

  app.notFound((c) => c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof BreakglassError) {
      if (err.status === 429) c.header("Retry-After", "10");
      return c.json(errorBody(err.code, err.message, err.issues ? { issues: err.issues } : {}), err.status);
    }
    c.get("log")?.error({ err }, "unhandled error");
    return c.json(errorBody("internal", "internal error; see the service's logs"), 500);
  });
  return app;
}
