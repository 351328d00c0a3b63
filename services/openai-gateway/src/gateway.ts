import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAuth } from "@claude-gateway/auth";
import { connectNats, isConnected } from "@claude-gateway/nats";
import { createLogger } from "@claude-gateway/service-kit";
import { serve } from "@hono/node-server";
import type { Logger } from "pino";
import { natsExecutor } from "./adapters/nats-executor.js";
import { createApp, onAuthError } from "./app.js";
import type { GatewayConfig } from "./config.js";
import { InFlight } from "./inflight.js";
import { createMetrics } from "./metrics.js";

export interface StartOptions {
  logger?: Logger;
  /** Bind address; default all interfaces (a pod). Tests use 127.0.0.1. */
  hostname?: string;
  /** See `AppDeps`; tests shorten them. */
  idleMs?: number;
  holdMs?: number;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** Stop accepting, let open requests finish for the grace period, cut the rest (cancelling their jobs), drain NATS. */
  stop(): Promise<void>;
}

/** Wires NATS and the HTTP server into the gateway and starts serving. */
export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  const env = config.env;
  const logger = opts.logger ?? createLogger("openai-gateway", env.LOG_LEVEL);
  const nc = await connectNats({ url: env.NATS_URL, name: "openai-gateway", logger });
  const inflight = new InFlight();
  const app = createApp({
    executor: natsExecutor(nc),
    auth: createAuth(config.auth, { logger, onError: onAuthError }),
    logger,
    metrics: createMetrics(),
    models: config.models,
    job: {
      agent: env.GATEWAY_AGENT,
      budgetUsd: env.GATEWAY_BUDGET_USD,
      timeoutSeconds: env.GATEWAY_TIMEOUT_SECONDS,
    },
    readiness: () => (isConnected(nc) ? { ready: true } : { ready: false, reason: "NATS is not connected" }),
    inflight,
    ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
    ...(opts.holdMs !== undefined ? { holdMs: opts.holdMs } : {}),
  });

  const server = serve({
    fetch: app.fetch,
    port: env.PORT,
    ...(opts.hostname ? { hostname: opts.hostname } : {}),
  }) as Server;
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, agent: env.GATEWAY_AGENT, models: config.models.supported }, "gateway started");

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${opts.hostname ?? "127.0.0.1"}:${port}`,
    port,
    stop: () => {
      stopping ??= (async () => {
        logger.info({ open: inflight.size }, "gateway stopping");
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        if (!(await inflight.idle(env.SHUTDOWN_GRACE_SECONDS * 1000))) {
          logger.warn({ open: inflight.size }, "cutting open requests; their jobs are cancelled");
        }
        // Cut connections abort their requests, which cancel their jobs over NATS: wait for that.
        server.closeAllConnections();
        await closed;
        await inflight.idle(5_000);
        await nc.drain().catch(() => {});
        logger.info("gateway stopped");
      })();
      return stopping;
    },
  };
}
