import { type AgentRegistry, agentInvocation, findAgentsDir, loadAgents } from "@claude-gateway/agents";
import { createAuth } from "@claude-gateway/auth";
import {
  claudeConfigDir,
  detectClaudeLogin,
  loginProblem,
  resolveClaudeBin,
  runClaude,
  startWarm,
  transcriptStore,
} from "@claude-gateway/claude";
import { buckets, type JobRecord } from "@claude-gateway/contracts";
import {
  connectNats,
  ensureKv,
  ensureObjectStore,
  natsPayloads,
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
  registerPolicyMetrics,
  watchPolicy,
} from "@claude-gateway/policy";
import {
  createLogger,
  listen,
  type RunningService,
  readinessOf,
  type StartOptions,
} from "@claude-gateway/service-kit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { natsCancelBus, natsEventPublisher, onCancelBroadcast } from "./adapters/nats-events.js";
import { ensureJobQueue, natsJobQueue, natsQueueConsumer } from "./adapters/nats-queue.js";
import { natsJobStore } from "./adapters/nats-store.js";
import { createApp } from "./app.js";
import { type ExecutorConfig, workspaceOptions } from "./config.js";
import { agentAndModelOf, keyOf, prewarmKeyOf } from "./core/prewarm.js";
import { createMetrics } from "./metrics.js";
import { forwardToolResults, serveExecutorNats } from "./nats.js";
import type { JobSandbox } from "./ports.js";
import { createPrewarmPool } from "./prewarm.js";
import { createQueueSweeper } from "./queue-sweep.js";
import { createJobRunner } from "./run-job.js";
import { openAgentSandbox } from "./sandbox/index.js";
import { createExecutorService } from "./service.js";
import { createToolHolds } from "./tool-results.js";
import { createWorker } from "./worker.js";
import { createWorkspaceManager, workspaceMetrics } from "./workspace/index.js";

export interface RunningExecutor extends RunningService {
  agents: AgentRegistry;
}

/** Wires the real adapters (NATS, git, the CLI) into the executor and starts serving. */
export async function startExecutor(
  config: ExecutorConfig,
  opts: StartOptions<Logger> = {},
): Promise<RunningExecutor> {
  const env = config.env;
  const logger = opts.logger ?? createLogger("executor", env.LOG_LEVEL, { executor: env.EXECUTOR_ID });
  const claudeEnv = opts.claudeEnv ?? process.env;
  const agentsDir = env.AGENTS_DIR ?? (await findAgentsDir(process.cwd()));
  const agents = await loadAgents(agentsDir);
  logger.info({ agentsDir, agents: agents.names() }, "agents loaded");
  const agentSandboxes = await openAgentSandbox({
    isolation: env.AGENT_ISOLATION,
    ...(env.RUNNER_SOCKET ? { runnerSocket: env.RUNNER_SOCKET } : {}),
    runnerUser: env.RUNNER_USER,
    // One runner user per job at once, and one per prewarmed process.
    slots: env.MAX_CONCURRENCY + env.PREWARM_POOL_SIZE * env.PREWARM_MAX_KEYS,
    workspaceRoot: env.WORKSPACE_ROOT,
    secretFiles: config.secretFiles,
    bin: env.CLAUDE_BIN ?? resolveClaudeBin(),
    claudeEnv,
    logger,
  });

  const nc = await connectNats({
    url: env.NATS_URL,
    name: `executor-${env.EXECUTOR_ID}`,
    credentials: config.nats,
    logger,
  });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureJobQueue(jsm, { ackWaitMs: env.ACK_WAIT_SECONDS * 1000, maxDeliver: 5 });
  const kv = await ensureKv(js, buckets.jobs, { ttlMs: env.JOB_TTL_SECONDS * 1000, history: 1 });
  const transcriptsBucket = await ensureObjectStore(js, buckets.transcripts, {
    ttlMs: env.JOB_TTL_SECONDS * 1000,
  });
  // Prompts and replies too large for a record: they live as long as the records naming them.
  const payloads = natsPayloads(
    await ensureObjectStore(js, buckets.jobPayloads, { ttlMs: env.JOB_TTL_SECONDS * 1000 }),
  );

  const store = natsJobStore(kv);
  const queue = natsJobQueue(js, jsm);
  const clock = { now: () => new Date() };
  const policy = await watchPolicy(env.CALLER_POLICY_FILE, { logger });
  // The subscription plan's utilisation, as the jobs' CLIs report it: at its limit, nothing is admitted.
  const plan = natsPlanStore(await ensurePlanBucket(js), { logger });
  const gate = createPolicyGate({
    policy,
    counters: natsPolicyCounters(await ensureCounterBuckets(js)),
    plan,
    now: clock.now,
  });
  // Jobs of this replica paused on their caller's tool calls.
  const toolHolds = createToolHolds();
  // The pool's gauge is read at scrape time, after `prewarmPool` exists.
  const metrics = createMetrics({
    queueStats: () => queue.stats(),
    callerLabel: gate.metricLabel,
    prewarmed: () => prewarmPool.size,
    awaitingToolResults: () => toolHolds.size,
  });
  registerPolicyMetrics(metrics.registry, gate);
  /** A job that ended gives its caller's in-flight slot back. */
  const releaseLease = (job: JobRecord) => {
    if (job.lease) {
      gate
        .release(job.caller, job.lease)
        .catch((err: unknown) =>
          logger.warn({ jobId: job.id, err }, "could not release the job's policy lease (it lapses)"),
        );
    }
  };
  const workspaces = createWorkspaceManager({
    ...workspaceOptions(env),
    logger,
    observer: workspaceMetrics(metrics.registry, env.WORKSPACE_MAX_BYTES),
  });
  const swept = await workspaces.sweep();
  if (swept.length) logger.warn({ swept }, "removed checkouts left by a previous run");

  // What one record may take on this server (its max_payload, less room for headers).
  const maxRecordBytes = Math.max(64 * 1024, (nc.info?.max_payload ?? 1024 * 1024) - 8 * 1024);
  const service = createExecutorService({
    toolResults: { holds: toolHolds, executorId: env.EXECUTOR_ID, forward: forwardToolResults(nc) },
    gate,
    jobLeaseMs: env.JOB_TTL_SECONDS * 1000,
    onEnded: releaseLease,
    store,
    queue,
    payloads,
    cancelBus: natsCancelBus(nc),
    agents: {
      has: (n) => agents.has(n),
      names: () => agents.names(),
      modelOf: (n) => (agents.has(n) ? agents.get(n).model : undefined),
      hasNoTools: (n) => agents.has(n) && agents.get(n).permissions.profile === "no-tools",
    },
    models: config.models,
    limits: {
      maxQueueDepth: env.MAX_QUEUE_DEPTH,
      defaultBudgetUsd: env.DEFAULT_JOB_BUDGET_USD,
      maxBudgetUsd: env.MAX_JOB_BUDGET_USD,
      defaultTimeoutSeconds: env.DEFAULT_JOB_TIMEOUT_SECONDS,
      retryAfterSeconds: env.QUEUE_FULL_RETRY_AFTER_SECONDS,
      maxRecordBytes,
    },
    repoAllowlist: env.REPO_ALLOWLIST,
    refs: workspaces,
    clock,
    login: () => detectClaudeLogin(claudeEnv),
    onSubmitted: (job) => metrics.jobSubmitted(job),
    logger,
  });

  const jobEnv = {
    GIT_AUTHOR_NAME: env.GIT_USER_NAME,
    GIT_AUTHOR_EMAIL: env.GIT_USER_EMAIL,
    GIT_COMMITTER_NAME: env.GIT_USER_NAME,
    GIT_COMMITTER_EMAIL: env.GIT_USER_EMAIL,
  };
  const noToolsAgent = (name: string) =>
    agents.has(name) && agents.get(name).permissions.profile === "no-tools" ? agents.get(name) : undefined;
  const initial = noToolsAgent(env.PREWARM_AGENT);
  // Stateless jobs of no-tools agents (the gateway's completions) skip the CLI's start-up.
  const prewarmPool = createPrewarmPool({
    size: loginProblem(claudeEnv) === undefined ? env.PREWARM_POOL_SIZE : 0,
    maxKeys: env.PREWARM_MAX_KEYS,
    maxAgeMs: env.PREWARM_MAX_AGE_SECONDS * 1000,
    initialKeys: initial ? [keyOf(initial.name, initial.model ?? config.models.defaultModel)] : [],
    logger,
    onEvent: (event) => metrics.prewarmEvent(event),
    start: async (key, id) => {
      const { agent, model } = agentAndModelOf(key);
      const workspace = await workspaces.prepare({ jobId: id });
      let sandbox: JobSandbox | undefined;
      try {
        sandbox = await agentSandboxes.sandboxes.open(id);
        await sandbox.adopt(workspace.dir);
        const process = startWarm({
          invocation: agentInvocation(agents.get(agent), {
            session: { kind: "ephemeral" },
            output: "stream-json",
            includePartialMessages: true,
            model,
          }),
          cwd: workspace.dir,
          sourceEnv: claudeEnv,
          setEnv: { ...jobEnv, ...sandbox.env },
          ...(sandbox.runAs ? { runAs: sandbox.runAs } : {}),
          ...(sandbox.launcher ? { launcher: sandbox.launcher } : {}),
          logger,
          ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
          ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
        });
        return { key, id, workspace, sandbox, process };
      } catch (err) {
        await sandbox?.close().catch(() => {});
        await workspace.release().catch(() => {});
        throw err;
      }
    },
  });

  const runJob = createJobRunner({
    store,
    queue,
    maxRecordBytes,
    events: natsEventPublisher(nc, logger),
    workspaces,
    sandboxes: agentSandboxes.sandboxes,
    transcripts: transcriptStore(natsTranscriptBlobs(transcriptsBucket)),
    payloads,
    runClaude,
    invocationFor: (job) => {
      const s = job.submission;
      const invocation = agentInvocation(agents.get(job.agent), {
        session:
          s.session?.kind === "resume"
            ? { kind: "resume", id: s.session.id, ...(s.session.fork ? { fork: true } : {}) }
            : s.session?.kind === "new"
              ? { kind: "new" }
              : { kind: "ephemeral" },
        output: "stream-json",
        includePartialMessages: true,
        model: job.model,
        ...(s.budgetUsd !== undefined ? { maxBudgetUsd: s.budgetUsd } : {}),
      });
      return s.jsonSchema !== undefined ? { ...invocation, jsonSchema: s.jsonSchema } : invocation;
    },
    claudeEnv,
    jobEnv,
    prewarm: {
      pool: prewarmPool,
      keyOf: (job) => {
        const agent = agents.has(job.agent) ? agents.get(job.agent) : undefined;
        return agent
          ? prewarmKeyOf(job.submission, { name: agent.name, profile: agent.permissions.profile }, job.model)
          : undefined;
      },
    },
    claudeConfigDir: claudeConfigDir(claudeEnv),
    executorId: env.EXECUTOR_ID,
    plan,
    clientTools: {
      start: startWarm,
      holds: toolHolds,
      resultsTimeoutMs: env.TOOL_RESULTS_TIMEOUT_SECONDS * 1000,
    },
    clock,
    logger,
    ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    onStarted: (job) => {
      metrics.running.inc();
      metrics.jobStarted(job);
    },
    onFinished: (job, spend) => {
      metrics.running.dec();
      metrics.jobFinished(job, spend);
      releaseLease(job);
      // Every run's cost counts toward its caller's day, failed runs too.
      if (job.costUsd) {
        gate
          .recordSpend(job.caller, job.costUsd)
          .catch((err: unknown) => logger.error({ jobId: job.id, err }, "could not record the job's spend"));
      }
    },
  });

  const worker = createWorker({
    consumer: await natsQueueConsumer(js),
    store,
    clock,
    logger,
    capacity: env.MAX_CONCURRENCY,
    heartbeatMs: Math.max(500, Math.floor((env.ACK_WAIT_SECONDS * 1000) / 4)),
    runJob,
    onLost: releaseLease,
  });
  const stopCancels = onCancelBroadcast(nc, ({ id, reason }) => {
    if (worker.cancel(id, reason ?? "cancelled")) logger.info({ jobId: id }, "cancelling a running job");
  });
  const natsService = await serveExecutorNats(nc, {
    service,
    logger,
    tools: { holds: toolHolds, executorId: env.EXECUTOR_ID },
  });

  const app = createApp({
    service,
    payloads,
    gate,
    metricsToken: config.metricsToken,
    auth: createAuth(config.auth, { logger }),
    logger,
    metrics,
    health: async () => {
      const { queued } = await queue.stats().catch(() => ({ queued: -1 }));
      return {
        busy: worker.active >= worker.capacity,
        active: worker.active,
        queued,
        capacity: worker.capacity,
      };
    },
    readiness: readinessOf(
      () => natsProblem(nc),
      () => loginProblem(claudeEnv),
      () => agentSandboxes.problem(),
    ),
  });

  const http = await listen(app.fetch, { port: env.PORT, hostname: opts.hostname });
  worker.start();
  const sweeper = createQueueSweeper({
    store,
    queue,
    clock,
    logger,
    graceMs: env.QUEUE_SWEEP_SECONDS * 1000,
    onReenqueued: () => metrics.jobReenqueued(),
  });
  sweeper.start();
  logger.info({ port: http.port, capacity: env.MAX_CONCURRENCY }, "executor started");

  let stopping: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    agents,
    stop: () => {
      stopping ??= (async () => {
        logger.info("executor stopping");
        await http.closed();
        await stopService(natsService);
        await sweeper.stop();
        await worker.stop(env.SHUTDOWN_GRACE_SECONDS * 1000);
        await prewarmPool.close();
        stopCancels();
        policy.close();
        agentSandboxes.close();
        workspaces.close();
        await nc.drain().catch(() => {});
        logger.info("executor stopped");
      })();
      return stopping;
    },
  };
}
