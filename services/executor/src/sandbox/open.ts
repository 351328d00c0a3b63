import { chmod, mkdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { claudeConfigDir } from "@claude-gateway/claude";
import type { WorkspaceLogger } from "../workspace/index.js";
import { type IsolationSetting, isolationMode } from "./mode.js";
import { unreachableByOthers } from "./reachable.js";
import { type AgentSandbox, createAgentSandbox } from "./sandbox.js";
import { secretFilesReadableByOthers } from "./secret-files.js";
import { ensureRunnerUsers } from "./users.js";

/** Why the executor cannot run agents apart from itself; it does not start. */
export class SandboxSetupError extends Error {
  override readonly name = "SandboxSetupError";
}

export interface OpenSandboxOptions {
  isolation: IsolationSetting;
  runnerUser: string;
  slots: number;
  workspaceRoot: string;
  secretFiles: Readonly<Record<string, string>>;
  /** The CLI binary the runner users must be able to run. */
  bin: string | undefined;
  claudeEnv: Readonly<Record<string, string | undefined>>;
  logger: WorkspaceLogger;
  uid?: number;
}

/**
 * Checks, at start-up, everything isolation relies on, creates the runner users and sweeps what
 * an earlier run left: a service that would run agents beside readable secrets does not start.
 */
export async function openAgentSandbox(opts: OpenSandboxOptions): Promise<AgentSandbox> {
  const picked = isolationMode(opts.isolation, opts.uid ?? process.getuid?.() ?? 0);
  if ("problem" in picked) throw new SandboxSetupError(picked.problem);
  const root = resolve(opts.workspaceRoot);
  let loginConfigDir: string | undefined;
  try {
    loginConfigDir = claudeConfigDir(opts.claudeEnv);
  } catch {
    loginConfigDir = undefined;
  }
  if (picked.mode === "none") {
    opts.logger.warn(
      {},
      "AGENT_ISOLATION=none: agents run as this service's own user and can read everything it can",
    );
    return createAgentSandbox({
      mode: "none",
      root,
      ...(loginConfigDir ? { loginConfigDir } : {}),
      logger: opts.logger,
    });
  }

  const problems: string[] = [];
  const readable = await secretFilesReadableByOthers(opts.secretFiles);
  if (readable.length)
    problems.push(
      `secret files readable by other users (chmod 600, or Kubernetes defaultMode 0400): ${readable.join(", ")}`,
    );
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  const rootProblem = await unreachableByOthers(root);
  if (rootProblem) problems.push(`runner users cannot reach WORKSPACE_ROOT: ${rootProblem}`);
  const binProblem = opts.bin ? await unreachableByOthers(opts.bin, { executable: true }) : undefined;
  if (binProblem) problems.push(`runner users cannot run the claude CLI: ${binProblem}`);
  if (problems.length) throw new SandboxSetupError(`agents cannot run isolated: ${problems.join("; ")}`);

  await closeSharedPlaces(opts.logger, loginConfigDir);
  const users = await ensureRunnerUsers(opts.runnerUser, opts.slots);
  const sandbox = createAgentSandbox({
    mode: "users",
    root,
    users,
    ...(loginConfigDir ? { loginConfigDir } : {}),
    logger: opts.logger,
  });
  await sandbox.sweep();
  opts.logger.info({ users: users.map((u) => u.name) }, "agents run as per-slot runner users");
  return sandbox;
}

/**
 * Places every job could otherwise share: the service's CLI config dir (its login, and the local
 * copies of every caller's transcripts) becomes the service's alone, and a world-writable temp dir
 * without the sticky bit (a Kubernetes emptyDir) gets it, so no job can replace another's files.
 */
async function closeSharedPlaces(
  logger: OpenSandboxOptions["logger"],
  loginConfigDir: string | undefined,
): Promise<void> {
  if (loginConfigDir) {
    await mkdir(loginConfigDir, { recursive: true, mode: 0o700 });
    await chmod(loginConfigDir, 0o700);
  }
  const tmp = tmpdir();
  const s = await stat(tmp).catch(() => undefined);
  if (s && (s.mode & 0o002) !== 0 && (s.mode & 0o1000) === 0) {
    await chmod(tmp, (s.mode & 0o7777) | 0o1000);
    logger.info({ dir: tmp }, "set the sticky bit on the world-writable temp dir");
  }
}
