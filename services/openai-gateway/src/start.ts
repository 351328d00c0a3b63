import { createAuth } from "@claude-gateway/auth";
import { buckets } from "@claude-gateway/contracts";
import { connectNats, natsProblem, openedPayloads } from "@claude-gateway/nats";
import {
  createPolicyGate,
  ensureCounterBuckets,
  natsPlanStore,
  natsPolicyCounters,
  openPlanBucket,
  type PolicyGate,
  watchPolicy,
} from "@claude-gateway/policy";
import {
  type StartOptions as BaseStartOptions,
  createLogger,
  listen,
  type RunningService,
  readinessOf,
} from "@claude-gateway/service-kit";
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { imageResolver } from "./adapters/image-fetch.js";
import { natsExecutor } from "./adapters/nats-executor.js";
import { createApp, onAuthError } from "./app.js";
import type { GatewayConfig } from "./config.js";
import { checkJsonSchema } from "./core/structured.js";
import { InFlight } from "./inflight.js";
import { createMetrics } from "./metrics.js";

/** The gateway runs no CLI: of the shared options, only `logger` and `hostname` apply. */
export interface StartOptions extends Pick<BaseStartOptions<Logger>, "logger" | "hostname"> {
  /** See `AppDeps`; tests shorten them. */
  idleMs?: number;
  holdMs?: number;
  /** Replaces the caller policy's gate (the policy benchmark compares against none). */
  gate?: PolicyGate;
}

/** `stop()`: stop accepting, let open requests finish for the grace period, cut the rest (cancelling their jobs), drain NATS. */
export type RunningGateway = RunningService;

/** Wires NATS and the HTTP server into the gateway and starts serving. */
export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  const env = config.env;
  const logger = opts.logger ?? createLogger("openai-gateway", env.LOG_LEVEL);
  const policy = await watchPolicy(env.CALLER_POLICY_FILE, { logger });
  const nc = await connectNats({
    url: env.NATS_URL,
    name: "openai-gateway",
    credentials: config.nats,
    logger,
  }).catch((err) => {
    policy.close();
    throw err;
  });
  const js = jetstream(nc);
  const gate =
    opts.gate ??
    createPolicyGate({
      policy,
      counters: natsPolicyCounters(await ensureCounterBuckets(js)),
      // The plan's utilisation as the executors record it: at its limit, completions are refused
      // here, before a job is made.
      plan: natsPlanStore(await openPlanBucket(js), { logger }),
    });
  const inflight = new InFlight();
  const app = createApp({
    executor: natsExecutor(nc, { payloads: openedPayloads(js, buckets.jobPayloads) }),
    gate,
    auth: createAuth(config.auth, { logger, onError: onAuthError, apiKeyHeader: "x-api-key" }),
    logger,
    metrics: createMetrics(gate),
    models: config.models,
    job: {
      agent: env.GATEWAY_AGENT,
      budgetUsd: env.GATEWAY_BUDGET_USD,
      timeoutSeconds: env.GATEWAY_TIMEOUT_SECONDS,
      repo: env.GATEWAY_REPO,
      ref: env.GATEWAY_REF,
    },
    metricsToken: config.metricsToken,
    images: imageResolver({ allowlist: env.IMAGE_FETCH_ALLOWLIST }),
    readiness: readinessOf(() => natsProblem(nc)),
    inflight,
    ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
    ...(opts.holdMs !== undefined ? { holdMs: opts.holdMs } : {}),
  });

  // Builds the JSON-schema validator now (its meta-schemas take ~0.4 s), not in the first
  // structured-output request.
  checkJsonSchema({ type: "object" }, "response_format");
  const http = await listen(app.fetch, { port: env.PORT, hostname: opts.hostname });
  logger.info(
    {
      port: http.port,
      agent: env.GATEWAY_AGENT,
      models: config.models.supported,
      policy: policy.current().source,
    },
    "gateway started",
  );

  let stopping: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    stop: () => {
      stopping ??= (async () => {
        logger.info({ open: inflight.size }, "gateway stopping");
        const closed = http.closed();
        if (!(await inflight.idle(env.SHUTDOWN_GRACE_SECONDS * 1000))) {
          logger.warn({ open: inflight.size }, "cutting open requests; their jobs are cancelled");
        }
        // Cut connections abort their requests, which cancel their jobs over NATS: wait for that.
        http.server.closeAllConnections();
        await closed;
        await inflight.idle(5_000);
        policy.close();
        await nc.drain().catch(() => {});
        logger.info("gateway stopped");
      })();
      return stopping;
    },
  };
}
