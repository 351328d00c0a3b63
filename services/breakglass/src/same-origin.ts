import type { MiddlewareHandler } from "hono";
import type { Env } from "./env.js";
import { CrossSiteRequestError } from "./errors.js";

/** Methods that change nothing; everything else (POST, PUT, PATCH, DELETE, …) is checked. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a state-changing request is not from the console's own page, or undefined when it is.
 * `Sec-Fetch-Site` decides when the browser sent it (only `same-origin` passes: `same-site` is
 * another host of the domain, `none` no page at all); otherwise `Origin` must be the console's
 * origin: `publicOrigin` when configured, else the host the request was sent to
 * (`X-Forwarded-Host` from the ingress, else `Host`), scheme not compared (TLS ends at the
 * ingress). Neither header: refused, as every browser the UI runs in sends one.
 */
export function crossSiteProblem(
  headers: Headers,
  requestUrl: string,
  publicOrigin: string | undefined,
): string | undefined {
  const site = headers.get("sec-fetch-site");
  if (site !== null) {
    return site === "same-origin"
      ? undefined
      : `the request came from another site (Sec-Fetch-Site: ${site})`;
  }
  const origin = headers.get("origin");
  if (origin === null) return "a state-changing request must carry Origin or Sec-Fetch-Site";
  let sent: URL;
  try {
    sent = new URL(origin);
  } catch {
    return "the request came from another site (Origin is not a URL)";
  }
  if (publicOrigin !== undefined) {
    return sent.origin === publicOrigin ? undefined : "the request came from another site (Origin)";
  }
  const forwarded = headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  const host = forwarded || new URL(requestUrl).host;
  let expected: string;
  try {
    // Through the Origin's scheme, so a default port (`:443`) is dropped on both sides alike.
    expected = new URL(`${sent.protocol}//${host}`).host;
  } catch {
    return "the request's host is not valid";
  }
  return sent.host === expected ? undefined : "the request came from another site (Origin)";
}

/**
 * Authentik signs the browser in with a cookie, which the browser attaches to requests any site
 * makes (a form posting `text/plain` needs no CORS preflight). So a state-changing request
 * authenticated by Authentik must come from the console's own origin: else 403
 * `cross_site_request`. A bearer token is never sent by the browser on its own: not checked.
 * Runs after auth.
 */
export function sameOriginForCookies(opts: { publicOrigin?: string | undefined }): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method) || c.get("principal")?.via !== "authentik") return next();
    const problem = crossSiteProblem(c.req.raw.headers, c.req.url, opts.publicOrigin);
    if (problem === undefined) return next();
    c.get("log").warn(
      {
        method: c.req.method,
        path: c.req.path,
        origin: c.req.header("origin"),
        secFetchSite: c.req.header("sec-fetch-site"),
        principal: c.get("principal").name,
      },
      "cross-site request refused",
    );
    throw new CrossSiteRequestError(problem);
  };
}
