import { mkdir } from "node:fs/promises";
import { findAgentsDir, loadAgents } from "@claude-gateway/agents";
import { claudeConfigDir, loginProblem, runClaude, transcriptStore } from "@claude-gateway/claude";
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
  createLogger,
  listen,
  type RunningService,
  readinessOf,
  type StartOptions,
} from "@claude-gateway/service-kit";
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { natsConversationStore } from "./adapters/nats-conversations.js";
import { natsLockKv } from "./adapters/nats-lock.js";
import { conversationalAuth, createApp } from "./app.js";
import type { ConversationalConfig } from "./config.js";
import { createConversationService } from "./conversation.js";
import { checkAgent } from "./core/turn.js";
import { inProcessLock, kvLock } from "./lock.js";
import { createMetrics } from "./metrics.js";
import { serveConversationalNats } from "./nats.js";

/** The agent every turn runs. */
export const AGENT_NAME = "conversational";

/**
 * Session transcripts of conversations. Not the executor's `agent_transcripts` (its max age is
 * the job TTL): this bucket's age is the conversation idle TTL.
 */
export const TRANSCRIPTS_BUCKET = buckets.conversationTranscripts;

export type RunningConversational = RunningService;

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

  const nc = await connectNats({ url: env.NATS_URL, name: `conversational-${env.REPLICA_ID}`, logger });
  const js = jetstream(nc);
  const ttlMs = env.CONVERSATION_TTL_SECONDS * 1000;
  const kv = await ensureKv(js, buckets.conversations, { ttlMs, history: 1 });
  const transcripts = await ensureObjectStore(js, TRANSCRIPTS_BUCKET, {
    ttlMs,
    description: "Claude CLI session transcripts of conversations",
  });

  const timeoutMs = env.CONVERSATIONAL_TIMEOUT_SECONDS * 1000;
  // The gauge is read at scrape time, after `conversations` exists.
  const metrics = createMetrics({ activeTurns: () => conversations.active });
  const conversations = createConversationService({
    store: natsConversationStore(kv),
    lock: inProcessLock(
      kvLock(natsLockKv(kv), {
        owner: env.REPLICA_ID,
        staleAfterMs: timeoutMs + env.CONVERSATION_LOCK_GRACE_SECONDS * 1000,
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
    ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    onTurn: (turn) => metrics.turnFinished(turn),
  });
  const natsService = await serveConversationalNats(nc, { conversations, logger });

  let stopping: Promise<void> | undefined;
  const app = createApp({
    conversations,
    auth: conversationalAuth(config.auth, logger),
    logger,
    metrics,
    readiness: readinessOf(
      () => stopping !== undefined && "shutting down",
      () => natsProblem(nc),
      () => loginProblem(claudeEnv),
    ),
  });

  const http = await listen(app.fetch, { port: env.PORT, hostname: opts.hostname });
  logger.info({ port: http.port, model: config.models.defaultModel }, "conversational started");

  return {
    url: http.url,
    port: http.port,
    stop: () => {
      stopping ??= (async () => {
        logger.info("conversational stopping");
        const closed = http.closed();
        await stopService(natsService);
        await conversations.shutdown(env.SHUTDOWN_GRACE_SECONDS * 1000);
        // Keep-alive connections with no request in flight would hold `close` open.
        http.server.closeIdleConnections();
        await closed;
        await nc.drain().catch(() => {});
        logger.info("conversational stopped");
      })();
      return stopping;
    },
  };
}
