import { principalId } from "@claude-gateway/contracts";
import type { Principal } from "./principal.js";
import {
  AUTHENTIK_EMAIL_HEADER,
  AUTHENTIK_GROUPS_HEADER,
  AUTHENTIK_USERNAME_HEADER,
  type AuthConfig,
} from "./schema.js";
import { secretChecker, tokenFinder } from "./secret.js";

/** Why a request was refused; goes to logs, and picks the status and message sent back. */
export type AuthFailureReason =
  | "not_configured"
  | "missing_credentials"
  | "unsupported_scheme"
  | "malformed_bearer"
  | "ambiguous_credentials"
  | "invalid_token"
  | "forward_auth_not_enabled"
  | "missing_proxy_secret"
  | "invalid_proxy_secret";

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reason: AuthFailureReason };

/** Identifies the caller from request headers. Framework-free: the hono middleware is a thin adapter. */
export type Authenticate = (headers: Headers) => AuthOutcome;

const BEARER = /^Bearer +(\S+) *$/i;
const BEARER_SCHEME = /^Bearer(\s|$)/i;
const AUTHENTIK_PREFIX = "x-authentik-";

export interface AuthenticatorOptions {
  /**
   * A header that carries the token bare, as Anthropic's clients send `x-api-key`. Used only when
   * the request has no `Authorization`; sending both is refused (they could name two callers).
   */
  apiKeyHeader?: string;
}

export function createAuthenticator(config: AuthConfig, opts: AuthenticatorOptions = {}): Authenticate {
  const findToken = tokenFinder(config.tokens);
  const configured = config.tokens.length > 0 || config.authentik !== undefined;
  const authentik = config.authentik;
  const proxySecretMatches = authentik === undefined ? undefined : secretChecker(authentik.proxySecret);
  const secretHeader = authentik?.secretHeader.toLowerCase();

  const fail = (reason: AuthFailureReason): AuthOutcome => ({ ok: false, reason });

  const apiKeyHeader = opts.apiKeyHeader?.toLowerCase();
  const byToken = (token: string): AuthOutcome => {
    const entry = findToken(token);
    return entry === undefined
      ? fail("invalid_token")
      : { ok: true, principal: { id: principalId("tok", entry.name), name: entry.name, via: "bearer" } };
  };
  const bearer = (headers: Headers): AuthOutcome => {
    const authorization = headers.get("authorization");
    const apiKey = apiKeyHeader === undefined ? null : headers.get(apiKeyHeader);
    if (apiKey !== null) {
      if (authorization !== null) return fail("ambiguous_credentials");
      const token = apiKey.trim();
      return token === "" || /\s/.test(token) ? fail("malformed_bearer") : byToken(token);
    }
    if (authorization === null) return fail("missing_credentials");
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined)
      return fail(BEARER_SCHEME.test(authorization) ? "malformed_bearer" : "unsupported_scheme");
    return byToken(token);
  };

  return (headers) => {
    // Fail closed: with nothing to check against, nobody gets in.
    if (!configured) return fail("not_configured");
    if (!carriesForwardAuth(headers, secretHeader)) return bearer(headers);
    // Identity headers are trusted only from the proxy; anyone else sending them is refused, not ignored.
    if (proxySecretMatches === undefined || secretHeader === undefined)
      return fail("forward_auth_not_enabled");
    const secret = headers.get(secretHeader);
    if (secret === null) return fail("missing_proxy_secret");
    if (!proxySecretMatches(secret)) return fail("invalid_proxy_secret");
    const principal = authentikPrincipal(headers);
    // The proxy vouched for the request but named no user (a path Authentik leaves unauthenticated).
    return principal === undefined ? bearer(headers) : { ok: true, principal };
  };
}

function carriesForwardAuth(headers: Headers, secretHeader: string | undefined): boolean {
  if (secretHeader !== undefined && headers.has(secretHeader)) return true;
  for (const name of headers.keys()) if (name.startsWith(AUTHENTIK_PREFIX)) return true;
  return false;
}

function authentikPrincipal(headers: Headers): Principal | undefined {
  const name = headers.get(AUTHENTIK_USERNAME_HEADER)?.trim();
  if (!name) return undefined;
  const principal: Principal = { id: principalId("ak", name), name, via: "authentik" };
  const email = headers.get(AUTHENTIK_EMAIL_HEADER)?.trim();
  if (email) principal.email = email;
  const groups = headers.get(AUTHENTIK_GROUPS_HEADER);
  if (groups !== null)
    principal.groups = groups.split("|").flatMap((g) => (g.trim() === "" ? [] : [g.trim()]));
  return principal;
}
