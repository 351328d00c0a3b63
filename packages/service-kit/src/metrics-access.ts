import { readFileSync } from "node:fs";
import { MIN_TOKEN_LENGTH, secretChecker, TOKEN_VALUE_PATTERN } from "@claude-gateway/auth";
import type { MiddlewareHandler } from "hono";
import { errorBody, ServiceError } from "./errors.js";

/** Reads a UTF-8 text file; `fs.readFileSync` fits. Injected so tests need no files. */
export type ReadTextFile = (path: string, encoding: "utf8") => string;

/**
 * The scraper's bearer token for `/metrics`, from `METRICS_TOKEN` or `METRICS_TOKEN_FILE` (a mounted
 * secret; surrounding whitespace is dropped, as Prometheus drops it from its `credentials_file`).
 * Neither set is valid: `/metrics` then answers 503. Problems never quote the token.
 */
export function loadMetricsToken(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadTextFile = readFileSync,
): { token: string | undefined; problems: string[] } {
  const inline = env.METRICS_TOKEN || undefined;
  const file = env.METRICS_TOKEN_FILE || undefined;
  if (inline !== undefined && file !== undefined) {
    return { token: undefined, problems: ["set METRICS_TOKEN or METRICS_TOKEN_FILE, not both"] };
  }
  if (file !== undefined) {
    try {
      return checked(readFile(file, "utf8"), `METRICS_TOKEN_FILE (${file})`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return { token: undefined, problems: [`METRICS_TOKEN_FILE: cannot read "${file}" (${code})`] };
    }
  }
  return inline === undefined ? { token: undefined, problems: [] } : checked(inline, "METRICS_TOKEN");
}

function checked(raw: string, where: string): { token: string | undefined; problems: string[] } {
  const token = raw.trim();
  if (token === "") return { token: undefined, problems: [`${where}: empty`] };
  if (!TOKEN_VALUE_PATTERN.test(token))
    return { token: undefined, problems: [`${where}: must be printable ASCII without spaces or commas`] };
  if (token.length < MIN_TOKEN_LENGTH)
    return {
      token: undefined,
      problems: [
        `${where}: shorter than ${MIN_TOKEN_LENGTH} characters (make one with \`openssl rand -hex 32\`)`,
      ],
    };
  return { token, problems: [] };
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Lets only the holder of the metrics token through: `/metrics` names callers and their spend.
 * Without a token configured nobody gets in (503 `metrics_not_configured`, fail closed, as auth's
 * `auth_not_configured`); a missing or wrong one is a 401 with a `Bearer realm="metrics"` challenge.
 * The callers' tokens never open it: scraping is a separate right.
 */
export function metricsGuard(token: string | undefined): MiddlewareHandler {
  const matches = token === undefined ? undefined : secretChecker(token);
  return async (c, next) => {
    if (matches === undefined) {
      const err = new ServiceError(
        503,
        "metrics_not_configured",
        "/metrics needs METRICS_TOKEN or METRICS_TOKEN_FILE",
      );
      return c.json(errorBody(err), 503);
    }
    const presented = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (presented === undefined || !matches(presented)) {
      c.header(
        "WWW-Authenticate",
        presented === undefined ? 'Bearer realm="metrics"' : 'Bearer realm="metrics", error="invalid_token"',
      );
      return c.json(
        errorBody(new ServiceError(401, "unauthorized", "/metrics needs the metrics bearer token")),
        401,
      );
    }
    return next();
  };
}
