import type { Context, MiddlewareHandler } from "hono";
import { type AuthFailureReason, createAuthenticator } from "./authenticate.js";
import { parseAuthConfig } from "./config.js";
import type { AuthEnv } from "./principal.js";
import type { AuthConfig } from "./schema.js";

/** Pino fits as is; either level may be left out. Logged: names, reasons, paths; never tokens or secrets. */
export interface AuthLogger {
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}

/** What the middleware refuses a request with; `onError` turns it into a response. */
export interface AuthFailure {
  status: 401 | 503;
  code: "unauthorized" | "auth_not_configured";
  message: string;
  reason: AuthFailureReason;
}

export interface AuthOptions {
  /** Exact request paths served without credentials. Default: `/healthz`, `/readyz`. */
  publicPaths?: readonly string[];
  logger?: AuthLogger;
  /** A header that may carry the token instead of `Authorization: Bearer` (e.g. `x-api-key`). */
  apiKeyHeader?: string;
  /**
   * Shapes the error response. Default: the services' error envelope `{ error: code, detail }`
   * (contracts' `ErrorEnvelope`). 401s get `WWW-Authenticate` either way.
   */
  onError?: (c: Context, failure: AuthFailure) => Response | Promise<Response>;
}

export const DEFAULT_PUBLIC_PATHS: readonly string[] = ["/healthz", "/readyz"];

/** Client-facing messages: forward-auth failures share one so they do not reveal the proxy setup. */
const MESSAGES: Record<AuthFailureReason, string> = {
  not_configured: "Authentication is not configured on this server",
  missing_credentials: "Missing credentials: send Authorization: Bearer <token>",
  unsupported_scheme: "Unsupported authorization scheme: use Bearer",
  malformed_bearer: "Malformed bearer credentials",
  ambiguous_credentials: "Send either an API key header or Authorization, not both",
  invalid_token: "Invalid bearer token",
  forward_auth_not_enabled: "Forward-auth headers not sent by the trusted proxy",
  missing_proxy_secret: "Forward-auth headers not sent by the trusted proxy",
  invalid_proxy_secret: "Forward-auth headers not sent by the trusted proxy",
};

/**
 * Authenticates every request except `publicPaths` and sets `c.var.principal`. Fails closed: with
 * no tokens and no Authentik configured, protected routes answer 503. Throws `AuthConfigError` for
 * an invalid `config`.
 */
export function createAuth(config: AuthConfig, opts: AuthOptions = {}): MiddlewareHandler<AuthEnv> {
  const checked = parseAuthConfig(config);
  const authenticate = createAuthenticator(
    checked,
    opts.apiKeyHeader !== undefined ? { apiKeyHeader: opts.apiKeyHeader } : {},
  );
  const publicPaths = new Set(opts.publicPaths ?? DEFAULT_PUBLIC_PATHS);
  const { logger, onError = defaultError } = opts;
  logConfiguration(checked, logger);

  return async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    const outcome = authenticate(c.req.raw.headers);
    const request = { method: c.req.method, path: c.req.path };
    if (outcome.ok) {
      c.set("principal", outcome.principal);
      logger?.info?.(
        { ...request, principal: outcome.principal.name, via: outcome.principal.via },
        "authenticated",
      );
      return next();
    }
    const failure = toFailure(outcome.reason);
    logger?.warn?.({ ...request, reason: failure.reason, status: failure.status }, "authentication failed");
    if (failure.status === 401) c.header("WWW-Authenticate", challenge(failure.reason));
    const response = await onError(c, failure);
    // A hand-built Response bypasses `c.header`; the challenge is part of a 401 regardless of body shape.
    if (failure.status === 401 && !response.headers.has("www-authenticate")) {
      response.headers.set("WWW-Authenticate", challenge(failure.reason));
    }
    return response;
  };
}

function toFailure(reason: AuthFailureReason): AuthFailure {
  const message = MESSAGES[reason];
  return reason === "not_configured"
    ? { status: 503, code: "auth_not_configured", message, reason }
    : { status: 401, code: "unauthorized", message, reason };
}

/** RFC 6750 §3.1: a rejected token is `invalid_token`, a garbled header `invalid_request`; nothing sent, a bare challenge. */
function challenge(reason: AuthFailureReason): string {
  if (reason === "invalid_token") return 'Bearer error="invalid_token"';
  return reason === "malformed_bearer" ? 'Bearer error="invalid_request"' : "Bearer";
}

function defaultError(c: Context, failure: AuthFailure): Response {
  return c.json({ error: failure.code, detail: failure.message }, failure.status);
}

function logConfiguration(config: AuthConfig, logger: AuthLogger | undefined): void {
  if (config.tokens.length === 0 && config.authentik === undefined) {
    logger?.warn?.({}, "auth not configured: protected routes will answer 503");
    return;
  }
  const fields = { tokens: config.tokens.map((t) => t.name), authentik: config.authentik !== undefined };
  logger?.info?.(fields, "auth configured");
}
