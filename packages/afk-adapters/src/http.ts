import type { z } from "zod";
import {
  type System,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamNotJsonError,
  UpstreamUnreachableError,
} from "./errors.js";

export type Fetch = typeof globalThis.fetch;

/** How an adapter reaches an API: where, with which token, through which `fetch`, within what time. */
export interface ApiOptions {
  baseUrl: string;
  token: string;
  fetch: Fetch;
  /** The deadline of each call. */
  timeoutMs: number;
}

export interface HttpOptions {
  system: System;
  baseUrl: string;
  fetch: Fetch;
  headers: Record<string, string>;
  timeoutMs: number;
}

export type Query = Record<string, string | number | undefined>;

export interface Call {
  query?: Query;
  body?: unknown;
}

/** A small JSON client over an injected `fetch`: one base URL, fixed headers, a deadline per call. */
export interface Http {
  /** A call whose 2xx body must match `schema`. */
  json<T>(method: string, path: string, schema: z.ZodType<T>, call?: Call): Promise<T>;
  /** Same, but a 404 is `null` ("not there"), not an error. */
  jsonOrNull<T>(method: string, path: string, schema: z.ZodType<T>, call?: Call): Promise<T | null>;
  /** A call whose body is not needed; `okStatuses` are accepted besides 2xx. */
  send(method: string, path: string, call?: Call & { okStatuses?: readonly number[] }): Promise<void>;
}

type Issue = z.ZodError["issues"][number];

/** One rejected field in words: `thread.latestTurn.state: expected one of running|…`, not a zod dump. */
function describeIssue(issue: Issue, at: readonly PropertyKey[]): string {
  const where = [...at, ...issue.path].map(String).join(".") || "(body)";
  if (issue.code === "invalid_value")
    return `${where}: expected one of ${issue.values.map(String).join("|")}`;
  if (issue.code === "invalid_union") return `${where}: matches none of the accepted forms`;
  if (issue.code === "invalid_format") return `${where}: not a valid ${issue.format}`;
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) {
    return `${where}: missing (expected ${issue.expected})`;
  }
  return `${where}: ${issue.message.replace(/^Invalid (input|option): /, "")}`;
}

/**
 * `value` parsed with `schema`, or an `UpstreamContractError` naming every field the contract
 * rejects; `at` is where `value` sits in the body (`["threads", 3]`).
 */
export function parseContract<T>(
  where: { system: System; method: string; path: string },
  schema: z.ZodType<T>,
  value: unknown,
  at: readonly PropertyKey[] = [],
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => describeIssue(i, at));
  throw new UpstreamContractError(where.system, where.method, where.path, issues);
}

function withQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

interface Answer {
  status: number;
  text: string;
  contentType: string | null;
}

export function createHttp(options: HttpOptions): Http {
  async function call(method: string, path: string, c: Call = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (c.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await options.fetch(`${options.baseUrl}${withQuery(path, c.query)}`, {
        method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw new UpstreamUnreachableError(options.system, method, path, err);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new UpstreamUnreachableError(options.system, method, path, err);
    }
    return { status: res.status, text, contentType: res.headers.get("content-type") };
  }

  function parse<T>(method: string, path: string, schema: z.ZodType<T>, res: Answer): T {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new UpstreamNotJsonError(options.system, method, path, res.contentType, res.text);
    }
    return parseContract({ system: options.system, method, path }, schema, body);
  }

  const ok = (status: number) => status >= 200 && status < 300;

  return {
    async json(method, path, schema, c) {
      const res = await call(method, path, c);
      if (!ok(res.status)) throw new UpstreamHttpError(options.system, method, path, res.status, res.text);
      return parse(method, path, schema, res);
    },
    async jsonOrNull(method, path, schema, c) {
      const res = await call(method, path, c);
      if (res.status === 404) return null;
      if (!ok(res.status)) throw new UpstreamHttpError(options.system, method, path, res.status, res.text);
      return parse(method, path, schema, res);
    },
    async send(method, path, c = {}) {
      const res = await call(method, path, c);
      if (!ok(res.status) && !c.okStatuses?.includes(res.status)) {
        throw new UpstreamHttpError(options.system, method, path, res.status, res.text);
      }
    },
  };
}

/** Path segment encoding for `owner/name` and label names. */
export function repoPath(repo: string): string {
  const [owner = "", name = ""] = repo.split("/");
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}
