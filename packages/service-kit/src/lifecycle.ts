import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Readiness } from "./http.js";

/** Options every service's start function takes (tests and the stack pass them). */
export interface StartOptions<L> {
  /** Where the CLI's own variables come from (default `process.env`). */
  claudeEnv?: Readonly<Record<string, string | undefined>>;
  logger?: L;
  /** Bind address; default all interfaces (a pod). Tests use 127.0.0.1. */
  hostname?: string;
  /** How long a stopped CLI gets between SIGINT and SIGTERM (tests shorten it). */
  killGraceMs?: number;
}

/** A started service, as its start function returns it. */
export interface RunningService {
  url: string;
  port: number;
  /** Graceful stop: no new work; running work finishes (or is handed back or cut after a grace). */
  stop(): Promise<void>;
}

export interface Listening {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting; resolves once every connection has closed. */
  closed(): Promise<void>;
}

/** Serves a fetch handler (a hono app) and resolves once the port is bound. */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  opts: { port: number; hostname?: string | undefined },
): Promise<Listening> {
  const server = serve({
    fetch,
    port: opts.port,
    ...(opts.hostname ? { hostname: opts.hostname } : {}),
  }) as Server;
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    url: `http://${opts.hostname ?? "127.0.0.1"}:${port}`,
    closed: () => {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  };
}

/**
 * True when `work` settles within `ms`, false when the grace runs out first (the work goes on;
 * the caller decides what to cut). The timer never outlives the race.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/readyz` from a list of checks, each naming what keeps the service from taking work (or
 * undefined when all is well): the first problem is the reason.
 */
export function readinessOf(...checks: Array<() => string | false | undefined>): () => Readiness {
  return () => {
    for (const check of checks) {
      const problem = check();
      if (problem) return { ready: false, reason: problem };
    }
    return { ready: true };
  };
}
