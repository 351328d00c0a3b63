import { chmodSync, mkdirSync } from "node:fs";
import { chmod, chown, mkdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { claudeConfigDir } from "@claude-gateway/claude";
import type { JobSandboxes } from "../ports.js";
import { runnerClient } from "../runner/client.js";
import type { WorkspaceLogger } from "../workspace/index.js";
import { claimRunnerNames } from "./claims.js";
import { makeCliTemplate } from "./cli-template.js";
import { type Isolation, type IsolationSetting, isolationMode } from "./mode.js";
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
  /** The runner beside the executor, when there is one. */
  runnerSocket?: string;
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

export interface AgentSandboxes {
  readonly mode: Isolation;
  readonly sandboxes: JobSandboxes;
  /** Why agents cannot be started now (the runner did not answer its last ping), for /readyz. */
  problem(): string | undefined;
  close(): void;
}

/** How often the executor asks its runner whether it is there. */
const RUNNER_PING_MS = 5000;

/**
 * Picks how agents run and checks, at start-up, everything that relies on: a service that would
 * run agents beside its readable secrets does not start.
 */
export async function openAgentSandbox(opts: OpenSandboxOptions): Promise<AgentSandboxes> {
  const picked = isolationMode(opts.isolation, opts.uid ?? process.getuid?.() ?? 0, opts.runnerSocket);
  if ("problem" in picked) throw new SandboxSetupError(picked.problem);
  const root = resolve(opts.workspaceRoot);
  const loginConfigDir = configDirOf(opts.claudeEnv);
  const ready = () => undefined;
  const nothing = () => {};

  if (picked.mode === "runner") {
    const client = runnerClient(opts.runnerSocket!);
    let last = await client.problem();
    const timer = setInterval(() => {
      void client.problem().then((p) => {
        if (p !== last) opts.logger.warn({ problem: p ?? "none" }, "runner status changed");
        last = p;
      });
    }, RUNNER_PING_MS);
    timer.unref();
    opts.logger.info({ socket: opts.runnerSocket, problem: last }, "agents run through the runner");
    return { mode: "runner", sandboxes: client, problem: () => last, close: () => clearInterval(timer) };
  }
  if (picked.mode === "none") {
    opts.logger.warn(
      {},
      "AGENT_ISOLATION=none: agents run as this service's own user and can read everything it can",
    );
    const cliTemplate = await makeCliTemplate(opts.bin, opts.logger);
    const sandbox = createAgentSandbox({
      mode: "none",
      root,
      ...(loginConfigDir ? { loginConfigDir } : {}),
      ...(cliTemplate ? { cliTemplate } : {}),
      logger: opts.logger,
    });
    return { mode: "none", sandboxes: sandbox, problem: ready, close: nothing };
  }

  const readable = await secretFilesReadableByOthers(opts.secretFiles);
  if (readable.length) {
    throw new SandboxSetupError(
      `agents cannot run isolated: secret files readable by other users (chmod 600, or Kubernetes defaultMode 0400): ${readable.join(", ")}`,
    );
  }
  const sandbox = await openRootSandbox({ ...opts, root, loginConfigDir });
  return { mode: "users", sandboxes: sandbox, problem: ready, close: () => sandbox.release() };
}

/**
 * The sandbox of a root process (the executor as root, or the runner): checks that runner users
 * can reach the workspace and the CLI, closes places jobs could share, creates the users and sweeps
 * what an earlier run left.
 */
export async function openRootSandbox(opts: {
  root: string;
  runnerUser: string;
  slots: number;
  bin: string | undefined;
  loginConfigDir: string | undefined;
  /** Who owns the workspace root and staging dirs (a non-root executor beside a runner). */
  serviceOwner?: { uid: number; gid: number };
  logger: WorkspaceLogger;
}): Promise<AgentSandbox & { release(): void }> {
  const problems: string[] = [];
  await mkdir(opts.root, { recursive: true, mode: 0o711 });
  if (opts.serviceOwner) await chown(opts.root, opts.serviceOwner.uid, opts.serviceOwner.gid);
  await chmod(opts.root, 0o711);
  const rootProblem = await unreachableByOthers(opts.root);
  if (rootProblem) problems.push(`runner users cannot reach WORKSPACE_ROOT: ${rootProblem}`);
  const binProblem = opts.bin ? await unreachableByOthers(opts.bin, { executable: true }) : undefined;
  if (binProblem) problems.push(`runner users cannot run the claude CLI: ${binProblem}`);
  if (problems.length) throw new SandboxSetupError(`agents cannot run isolated: ${problems.join("; ")}`);

  await closeSharedPlaces(opts.logger, opts.loginConfigDir);
  const claims = claimRunnerNames(opts.runnerUser, opts.slots, claimsDir());
  let users: Awaited<ReturnType<typeof ensureRunnerUsers>>;
  try {
    users = await ensureRunnerUsers(claims.names);
  } catch (err) {
    claims.release();
    throw err;
  }
  const cliTemplate = await makeCliTemplate(opts.bin, opts.logger);
  const sandbox = createAgentSandbox({
    mode: "users",
    root: opts.root,
    users,
    ...(cliTemplate ? { cliTemplate } : {}),
    ...(opts.loginConfigDir ? { loginConfigDir: opts.loginConfigDir } : {}),
    ...(opts.serviceOwner ? { serviceOwner: opts.serviceOwner } : {}),
    logger: opts.logger,
  });
  await sandbox.sweep();
  opts.logger.info({ users: users.map((u) => u.name) }, "agents run as per-slot runner users");
  return { ...sandbox, mode: sandbox.mode, release: () => claims.release() };
}

/**
 * Where runner-user claims live: one place per machine (root's alone), so that executors and
 * runners sharing it never share a user. `/run/claude-gateway` in the runner container (its socket
 * volume), else the temp dir.
 */
function claimsDir(): string {
  for (const base of ["/run/claude-gateway", tmpdir()]) {
    const dir = join(base, "runner-claims");
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      return dir;
    } catch {
      // not writable here (a read-only root filesystem): the next
    }
  }
  throw new SandboxSetupError(
    "nowhere to keep runner-user claims: /run/claude-gateway and the temp dir are read-only",
  );
}

function configDirOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
  try {
    return claudeConfigDir(env);
  } catch {
    return undefined;
  }
}

/**
 * Places every job could otherwise share: the CLI config dir of this process (its login, and the
 * executor's local copies of every caller's transcripts) becomes its alone, and a world-writable
 * temp dir without the sticky bit (a Kubernetes emptyDir) gets it, so no job can replace another's files.
 */
async function closeSharedPlaces(logger: WorkspaceLogger, loginConfigDir: string | undefined): Promise<void> {
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
