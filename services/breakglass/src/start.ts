import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { findAgentsDir, loadAgents } from "@claude-gateway/agents";
import { createAuth } from "@claude-gateway/auth";
import {
  type StartOptions as BaseStartOptions,
  listen,
  type RunningService,
} from "@claude-gateway/service-kit";
import type { Logger } from "pino";
import { claudeTurns } from "./adapters/claude-turns.js";
import { sshPveRunner } from "./adapters/ssh-runner.js";
import { createApp } from "./app.js";
import { createChatService } from "./chat.js";
import type { BreakglassConfig } from "./config.js";
import { SessionTable } from "./core/sessions.js";
import { breakglassLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import type { ClaudeTurns, PveRunner } from "./ports.js";
import { breakglassReadiness } from "./readiness.js";
import { type SshSetup, setupSsh } from "./ssh-setup.js";
import { createVmService } from "./vm.js";

export interface StartOptions extends BaseStartOptions<Logger> {
  /** The built UI; default `dist/ui` next to this file. */
  uiDir?: string;
  /** Replace the adapters (tests). */
  pve?: PveRunner;
  turns?: ClaudeTurns;
  keepaliveMs?: number;
}

/** `stop()`: stops accepting, lets running turns finish (grace), stops the rest, then the ssh-agent. */
export interface RunningBreakglass extends RunningService {
  ssh: SshSetup;
}

/** Wires SSH, the CLI and the HTTP app together and starts serving. */
export async function startBreakglass(
  config: BreakglassConfig,
  opts: StartOptions = {},
): Promise<RunningBreakglass> {
  const env = config.env;
  const logger = opts.logger ?? breakglassLogger(env.LOG_LEVEL);
  const claudeEnv = opts.claudeEnv ?? process.env;
  const agentsDir = env.AGENTS_DIR ?? (await findAgentsDir(process.cwd()));
  const agent = (await loadAgents(agentsDir)).get("breakglass");
  await mkdir(config.workDir, { recursive: true });

  const ssh = await setupSsh({
    hosts: {
      ...(env.SSH_DEVVM_HOST
        ? { devvm: { hostName: env.SSH_DEVVM_HOST, user: env.SSH_DEVVM_USER, port: env.SSH_DEVVM_PORT } }
        : {}),
      ...(env.SSH_PVE_HOST
        ? { pve: { hostName: env.SSH_PVE_HOST, user: env.SSH_PVE_USER, port: env.SSH_PVE_PORT } }
        : {}),
    },
    ...(env.SSH_KEY_FILE ? { keyFile: env.SSH_KEY_FILE } : {}),
    ...(env.SSH_KNOWN_HOSTS_FILE ? { knownHostsFile: env.SSH_KNOWN_HOSTS_FILE } : {}),
    sshBin: env.SSH_BIN,
    sshAgentBin: env.SSH_AGENT_BIN,
    sshAddBin: env.SSH_ADD_BIN,
    logger,
  });

  const pveReady = ssh.configPath !== undefined && ssh.aliases.includes("pve");
  const pve =
    opts.pve ??
    (pveReady && ssh.configPath
      ? sshPveRunner({
          sshBin: ssh.sshBin,
          configPath: ssh.configPath,
          timeoutMs: env.VM_VERB_TIMEOUT_SECONDS * 1000,
          maxOutputBytes: env.VM_OUTPUT_MAX_BYTES,
          logger,
        })
      : undefined);
  const turns =
    opts.turns ??
    claudeTurns({
      agent,
      model: agent.model ?? config.models.defaultModel,
      cwd: config.workDir,
      timeoutMs: env.TURN_TIMEOUT_SECONDS * 1000,
      maxBudgetUsd: env.TURN_BUDGET_USD,
      sourceEnv: claudeEnv,
      setEnv: {
        ...ssh.childEnv,
        // The wrapper first: the agent's `ssh` is ours.
        PATH: [ssh.binDir, claudeEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(":"),
        // A cycle outlasts the Bash tool's default 2 minutes.
        BASH_DEFAULT_TIMEOUT_MS: String(env.AGENT_COMMAND_TIMEOUT_SECONDS * 1000),
        BASH_MAX_TIMEOUT_MS: String(env.AGENT_COMMAND_TIMEOUT_SECONDS * 1000),
      },
      ...(env.CLAUDE_BIN ? { bin: env.CLAUDE_BIN } : {}),
      ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
      logger,
    });

  const metrics = createMetrics();
  const chat = createChatService({
    turns,
    sessions: new SessionTable({ maxSessions: env.MAX_SESSIONS, now: () => new Date(), mintId: randomUUID }),
    maxConcurrentTurns: env.MAX_CONCURRENT_TURNS,
    logger,
    readOnlyCommands: env.BREAKGLASS_READONLY_COMMANDS,
    promptTimeoutMs: env.BREAKGLASS_PROMPT_TIMEOUT_SECONDS * 1000,
    onTurnStarted: () => metrics.turnStarted(),
    onTurnFinished: (caller, outcome, seconds, spend) =>
      metrics.turnFinished(caller, outcome, seconds, spend),
  });
  const vm = createVmService({
    runner: pve,
    unavailable: ssh.problems.join("; ") || "SSH_PVE_HOST is not set",
    vmid: env.PVE_VMID,
    logger,
    onVerb: (caller, verb, outcome) => metrics.verbFinished(caller, verb, outcome),
  });
  let stopping: Promise<void> | undefined;
  const uiDir = opts.uiDir ?? builtUi();
  if (!uiDir) logger.warn("the web UI is not built (no dist/ui): only the API is served");
  const app = createApp({
    chat,
    vm,
    auth: createAuth(config.auth, { logger }),
    logger,
    metrics,
    readiness: breakglassReadiness({ claudeEnv, stopping: () => stopping !== undefined }),
    metricsToken: config.metricsToken,
    publicOrigin: env.BREAKGLASS_PUBLIC_ORIGIN,
    ...(uiDir ? { uiDir } : {}),
    ...(opts.keepaliveMs !== undefined ? { keepaliveMs: opts.keepaliveMs } : {}),
  });

  const http = await listen(app.fetch, { port: env.PORT, hostname: opts.hostname });
  logger.info(
    {
      port: http.port,
      vmid: env.PVE_VMID,
      ssh: ssh.aliases,
      sshProblems: ssh.problems,
      workDir: config.workDir,
    },
    "breakglass started",
  );

  return {
    url: http.url,
    port: http.port,
    ssh,
    stop: () => {
      stopping ??= (async () => {
        logger.info("breakglass stopping");
        const closed = http.closed();
        await Promise.all([
          chat.drain(env.SHUTDOWN_GRACE_SECONDS * 1000),
          vm.drain(env.SHUTDOWN_GRACE_SECONDS * 1000),
        ]);
        // Every turn is over: drop the sockets left (idle keep-alives, reattached streams).
        http.server.closeAllConnections();
        await closed;
        await ssh.stop();
        logger.info("breakglass stopped");
      })();
      return stopping;
    },
  };
}

/** `dist/ui` beside the compiled server, or the package's `dist/ui` when running from `src`. */
function builtUi(): string | undefined {
  return ["./ui/", "../dist/ui/"]
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((dir) => existsSync(`${dir}index.html`));
}
