import { mkdir } from "node:fs/promises";
import { type AgentSpec, findAgentsDir, loadAgents } from "@claude-gateway/agents";
import { claudeConfigDir, loginProblem, runClaude, startWarm, transcriptStore } from "@claude-gateway/claude";
import { buckets } from "@claude-gateway/contracts";
import {
  connectNats,
  ensureKv,
  ensureObjectStore,
  natsProblem,
  natsTranscriptBlobs,
  stopService,
} from "@claude-gateway/nats";
import {
  createPolicyGate,
  ensureCounterBuckets,
  ensurePlanBucket,
  natsPlanStore,
  natsPolicyCounters,
  type PolicySource,
  watchPolicy,
} from "@claude-gateway/policy";
import {
  createLogger,
  listen,
  type RunningService,
  readinessOf,
  type StartOptions,
} from "@claude-gateway/service-kit";
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { natsConversationStore } from "./adapters/nats-conversations.js";
import { natsLeaseKv } from "./adapters/nats-leases.js";
import { natsLockKv } from "./adapters/nats-lock.js";
import { conversationalAuth, createApp } from "./app.js";
import type { ConversationalConfig } from "./config.js";
import { createConversationService } from "./conversation.js";
import { turnSlots } from "./core/slots.js";
import { checkAgent, chooseModel, turnInvocation } from "./core/turn.js";
import { natsForwarder, serveForwardedTurns, withForwarding } from "./forwarding.js";
import { inProcessLock, kvLock } from "./lock.js";
import { createMetrics } from "./metrics.js";
import { serveConversationalNats } from "./nats.js";
import { replicaLeases } from "./replica-lease.js";
import { createWarmProcesses } from "./warm-processes.js";

/** The agent every turn runs. */
export const AGENT_NAME = "conversational";

/**
 * Session transcripts of conversations. Not the executor's `agent_transcripts` (its max age is
 * the job TTL): this bucket's age is the conversation idle TTL.
 */
export const TRANSCRIPTS_BUCKET = buckets.conversationTranscripts;

export type RunningConversational = RunningService;

/** The `Retry-After` of a 429 `too_many_turns`: about one turn, after which a slot is likely free. */
export const TOO_MANY_TURNS_RETRY_AFTER_SECONDS = 2;

/** Wires the real adapters (NATS KV and object store, the CLI) into the service and serves it. */
export async function startConversational(
  config: ConversationalConfig,
  opts: StartOptions<Logger> = {},
): Promise<RunningConversational> {
  const env = config.env;
  const logger = opts.logger ?? createLogger("conversational", env.LOG_LEVEL, { replica: env.REPLICA_ID });
  const claudeEnv = opts.claudeEnv ?? process.env;
  const agentsDir = env.AGENTS_DIR ?? (await findAgentsDir(process.cwd()));
  const agent = (await loadAgents(agentsDir)).get(AGENT_NAME);
  checkAgent(agent);
  await mkdir(env.CONVERSATION_CWD, { recursive: true });
  const configDir = claudeConfigDir(claudeEnv);
  logger.info(
    { agentsDir, cwd: env.CONVERSATION_CWD, claudeConfigDir: configDir },
    "conversational starting",
  );

  // A bad policy file stops the start with every problem listed, before anything connects.
  const policy = await watchPolicy(env.CALLER_POLICY_FILE, { logger });
  try {
    return await serve(config, opts, { logger, claudeEnv, agent, configDir, policy });
  } catch (err) {
    policy.close();
    throw err;
  }
}

async function serve(
  config: ConversationalConfig,
  opts: StartOptions<Logger>,
  ctx: {
    logger: Logger;
    claudeEnv: Readonly<Record<string, string | undefined>>;
    agent: AgentSpec;
    configDir: string;
    policy: PolicySource;
  },
): Promise<RunningConversational> {
  const env = config.env;
  const { logger, claudeEnv, agent, configDir, policy } = ctx;
  const nc = await connectNats({
    url: env.NATS_URL,
    name: `conversational-${env.REPLICA_ID}`,
    credentials: config.nats,
    logger,
  });
  const js = jetstream(nc);
  const ttlMs = env.CONVERSATION_TTL_SECONDS * 1000;
  const kv = await ensureKv(js, buckets.conversations, { ttlMs, history: 1 });
  const transcripts = await ensureObjectStore(js, TRANSCRIPTS_BUCKET, {
    ttlMs,
    description: "Claude CLI session transcripts of conversations",
  });
  // The subscription plan's utilisation, as the turns' CLIs report it: at its limit, no turn is admitted.
  const plan = natsPlanStore(await ensurePlanBucket(js), { logger });
  const gate = createPolicyGate({
    policy,
    counters: natsPolicyCounters(await ensureCounterBuckets(js)),
    plan,
  });

  const timeoutMs = env.CONVERSATIONAL_TIMEOUT_SECONDS * 1000;
  const longestTurnMs = timeoutMs + env.CONVERSATION_LOCK_GRACE_SECONDS * 1000;
  const queueWaitMs = env.CONVERSATIONAL_QUEUE_WAIT_SECONDS * 1000;
  const slots = turnSlots({
    max: env.CONVERSATIONAL_MAX_CONCURRENCY,
    waitMs: queueWaitMs,
    retryAfterSeconds: TOO_MANY_TURNS_RETRY_AFTER_SECONDS,
  });
  // The gauges are read at scrape time, after `conversations` exists.
  const metrics = createMetrics({
    activeTurns: () => conversations.active,
    queuedTurns: () => slots.waiting,
    processes: () => warm.counts(),
    gate,
  });
  const warm = createWarmProcesses({
    start: (invocation) =>
      startWarm({
        invocation,
        cwd: env.CONVERSATION_CWD,
        sourceEnv: claudeEnv,
        logger,
        ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
        ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
      }),
    poolInvocation: (model) => turnInvocation(agent, { kind: "new" }, model),
    slots,
    maxProcesses: env.CONVERSATIONAL_MAX_CONCURRENCY,
    idleMs: env.WARM_IDLE_SECONDS * 1000,
    // No pool without a login: its processes would only fail.
    poolSize: loginProblem(claudeEnv) === undefined ? env.PREWARM_POOL_SIZE : 0,
    poolMaxAgeMs: env.PREWARM_MAX_AGE_SECONDS * 1000,
    poolMaxModels: env.PREWARM_MAX_MODELS,
    initialModels: [chooseModel(config.models, undefined, undefined, agent.model)],
    logger,
    onEvent: (kind) => metrics.warmEvent(kind),
  });
  const store = natsConversationStore(kv);
  // Other replicas see this one alive while it renews its lease (`replica.<id>` in the same bucket).
  const leaseMs = env.CONVERSATION_LEASE_SECONDS * 1000;
  const leases = replicaLeases(natsLeaseKv(kv), { replicaId: env.REPLICA_ID, leaseMs, logger });
  await leases.start();
  const local = createConversationService({
    store,
    lock: inProcessLock(
      kvLock(natsLockKv(kv), {
        owner: env.REPLICA_ID,
        staleAfterMs: leaseMs,
        logger,
      }),
    ),
    transcripts: transcriptStore(natsTranscriptBlobs(transcripts)),
    runClaude,
    agent,
    models: config.models,
    cwd: env.CONVERSATION_CWD,
    claudeConfigDir: configDir,
    claudeEnv,
    timeoutMs,
    logger,
    gate,
    plan,
    // A lease outlives a turn's longest wait and run, so only a dead replica's lapses.
    leaseMs: longestTurnMs + queueWaitMs,
    slots,
    warm,
    ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    onTurn: (turn) => metrics.turnFinished(turn),
    replicaId: env.REPLICA_ID,
  });
  // A turn of a conversation warm on another replica goes there; if that one is gone, it runs here.
  const conversations = withForwarding(local, {
    store,
    replicaId: env.REPLICA_ID,
    forward: natsForwarder(nc, {
      replicaId: env.REPLICA_ID,
      // The owner's longest turn: waiting for the lock and a slot, then the CLI's run.
      deadlineMs: longestTurnMs + queueWaitMs + 5_000,
      ownerAlive: leases.alive,
      checkEveryMs: Math.max(500, Math.floor(leaseMs / 3)),
      logger,
    }),
    ownerAlive: leases.alive,
    logger,
    onForward: (outcome) => metrics.warmEvent(outcome),
  });
  const forwarded = serveForwardedTurns(nc, { replicaId: env.REPLICA_ID, conversations: local, logger });
  const natsService = await serveConversationalNats(nc, { conversations, logger });

  let stopping: Promise<void> | undefined;
  const app = createApp({
    conversations,
    auth: conversationalAuth(config.auth, logger),
    logger,
    metrics,
    metricsToken: config.metricsToken,
    gate,
    readiness: readinessOf(
      () => stopping !== undefined && "shutting down",
      () => natsProblem(nc),
      () => loginProblem(claudeEnv),
    ),
  });

  const http = await listen(app.fetch, { port: env.PORT, hostname: opts.hostname });
  logger.info(
    {
      port: http.port,
      model: config.models.defaultModel,
      maxConcurrency: env.CONVERSATIONAL_MAX_CONCURRENCY,
      warmIdleSeconds: env.WARM_IDLE_SECONDS,
      prewarmPoolSize: env.PREWARM_POOL_SIZE,
      policy: policy.current().source,
    },
    "conversational started",
  );

  return {
    url: http.url,
    port: http.port,
    stop: () => {
      stopping ??= (async () => {
        logger.info("conversational stopping");
        const closed = http.closed();
        await stopService(natsService);
        // Forwarded turns still arriving get 503 shutting_down from the service: their senders run them.
        await conversations.shutdown(env.SHUTDOWN_GRACE_SECONDS * 1000);
        forwarded.unsubscribe();
        await leases.stop();
        // Keep-alive connections with no request in flight would hold `close` open.
        http.server.closeIdleConnections();
        await closed;
        await nc.drain().catch(() => {});
        policy.close();
        logger.info("conversational stopped");
      })();
      return stopping;
    },
  };
}
