import { join } from "node:path";
import type { AuthEnv } from "@claude-gateway/auth";
import {
  operationalRoutes,
  type Readiness,
  requestContext,
  routeNotFound,
  serviceErrorHandler,
} from "@claude-gateway/service-kit";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono, type MiddlewareHandler } from "hono";
import { except } from "hono/combine";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "pino";
import type { ChatService } from "./chat.js";
import type { Env } from "./env.js";
import type { Metrics } from "./metrics.js";
import { chatRoutes } from "./routes/chat.js";
import { vmRoutes } from "./routes/vm.js";
import { sameOriginForCookies } from "./same-origin.js";
import type { VmService } from "./vm.js";

export interface AppDeps {
  chat: ChatService;
  vm: VmService;
  auth: MiddlewareHandler<AuthEnv>;
  logger: Logger;
  metrics: Metrics;
  /**
   * Ready to take turns: the CLI has a login and the service is not shutting down. SSH is not a
   * condition: without it the console must still open to say so.
   */
  readiness: () => Readiness;
  /** The built web UI (`dist/ui`); `/` answers 404 when it is missing. */
  uiDir?: string;
  /** Comment lines sent on quiet streams so proxies keep them open. */
  keepaliveMs?: number;
  /** The scraper's token for `/metrics` (`METRICS_TOKEN`); without it `/metrics` is a 503. */
  metricsToken?: string | undefined;
  /** `BREAKGLASS_PUBLIC_ORIGIN`: the one origin cookie-authenticated changes may come from. */
  publicOrigin?: string | undefined;
}

/**
 * Open without credentials: liveness, readiness and the UI's static shell (it holds no secret and
 * must load to ask a bearer user for a token). `/metrics` skips the callers' auth for its own: the
 * metrics token only, which no caller holds. Everything else, unknown paths included, is
 * authenticated first: fail closed.
 */
function isPublic(method: string, path: string): boolean {
  if (path === "/healthz" || path === "/readyz") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  return (
    path === "/metrics" ||
    path === "/" ||
    path === "/index.html" ||
    path === "/favicon.svg" ||
    /^\/assets\/[\w.-]+$/.test(path)
  );
}

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();
  const keepaliveMs = deps.keepaliveMs ?? 15_000;

  app.use(requestContext(deps));
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
  app.use(sameOriginForCookies({ publicOrigin: deps.publicOrigin }));

  // `/metrics` names callers and their spend: the metrics token only.
  operationalRoutes(app, deps);
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

  app.notFound(routeNotFound);
  app.onError(serviceErrorHandler(deps.logger));
  return app;
}
