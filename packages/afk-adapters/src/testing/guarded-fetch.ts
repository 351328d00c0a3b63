import type { Fetch } from "../http.js";

export type ForbiddenFetch = Fetch & { calls: string[] };

/** A `fetch` that fails the test if anything calls it: proves a tick made no network call. */
export function forbiddenFetch(): ForbiddenFetch {
  const calls: string[] = [];
  const f = async (input: string | URL | Request): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    calls.push(url);
    throw new Error(`network call made while it must not be: ${url}`);
  };
  return Object.assign(f, { calls }) as ForbiddenFetch;
}
