import { resolve } from "node:path";
import { claudeConfigDir, resolveClaudeBin } from "@claude-gateway/claude";
import { createLogger, type Logger } from "@claude-gateway/service-kit";
import { openRootSandbox, SandboxSetupError } from "../sandbox/index.js";
import type { RunnerConfig } from "./config.js";
import { type RunnerServer, serveRunner } from "./server.js";

/** Wires the runner: root checks, the runner users, the socket. */
export async function startRunner(
  config: RunnerConfig,
  opts: { logger?: Logger; env?: Readonly<Record<string, string | undefined>>; uid?: number } = {},
): Promise<RunnerServer> {
  const logger = opts.logger ?? createLogger("runner", config.LOG_LEVEL);
  if ((opts.uid ?? process.getuid?.()) !== 0) {
    throw new SandboxSetupError(
      "the runner must run as root (in Kubernetes with SETUID, SETGID, CHOWN, FOWNER, DAC_OVERRIDE and KILL): it runs each job as its slot's user",
    );
  }
  const bin = config.CLAUDE_BIN ?? resolveClaudeBin();
  if (!bin)
    throw new SandboxSetupError(
      "the claude binary was not found: install @anthropic-ai/claude-code or set CLAUDE_BIN",
    );
  let loginConfigDir: string | undefined;
  try {
    loginConfigDir = claudeConfigDir(opts.env ?? process.env);
  } catch {
    loginConfigDir = undefined;
  }
  const client = { uid: config.RUNNER_CLIENT_UID, gid: config.RUNNER_CLIENT_GID };
  const root = resolve(config.WORKSPACE_ROOT);
  const sandbox = await openRootSandbox({
    root,
    runnerUser: config.RUNNER_USER,
    slots: config.RUNNER_SLOTS,
    bin,
    loginConfigDir,
    serviceOwner: client,
    logger,
  });
  const server = await serveRunner({ socketPath: config.RUNNER_SOCKET, sandbox, root, bin, client, logger });
  return {
    close: async () => {
      await server.close();
      sandbox.release();
    },
  };
}
