import { chmod, copyFile, lstat, mkdir, readdir } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { reapUid } from "@claude-gateway/claude";
import { execa } from "execa";
import type { WorkspaceLogger } from "../workspace/index.js";
import { removeTree } from "../workspace/remove.js";
import { componentPaths, untrustedPathProblem } from "./file-access.js";
import type { PasswdEntry } from "./passwd.js";
import { createSlotPool } from "./slots.js";

/**
 * `users`: every job runs as its concurrency slot's own unprivileged user (the service is root).
 * `none`: jobs run as the service's own user — they can read its secrets; for a developer's machine.
 */
export type IsolationMode = "users" | "none";

/** Where one job's agent runs, and as whom. */
export interface JobSandbox {
  /** A fresh HOME, seeded with the CLI login only. */
  readonly home: string;
  /** The CLI's config dir inside `home` (its sessions live here). */
  readonly configDir: string;
  /** HOME, CLAUDE_CONFIG_DIR, TMPDIR (and USER/LOGNAME as the runner user) for every process of the job. */
  readonly env: Readonly<Record<string, string>>;
  /** The user the agent runs as; undefined in mode `none`. */
  readonly runAs: { uid: number; gid: number } | undefined;
  readonly user: string | undefined;
  /**
   * Hands the job's checkout and home to the job's user; from here on the service treats what is in
   * them as the agent's (untrusted) and reads files there only through `trustedFile`.
   */
  adopt(checkout: string): Promise<void>;
  /**
   * Kills every process still running as the job's user. Afterwards nothing of the job can change
   * its files any more, so `trustedFile` checks stay true.
   */
  reap(): Promise<number[]>;
  /** Why the service must not read `path` (under `home`) as itself, or undefined. Call after `reap`. */
  untrustedFile(path: string): Promise<string | undefined>;
  /** Reaps, removes the home and frees the slot. Safe to call more than once. */
  close(): Promise<void>;
}

export interface AgentSandbox {
  readonly mode: IsolationMode;
  open(jobId: string): Promise<JobSandbox>;
  /** Start-up: kills what runner users left running and removes every home. */
  sweep(): Promise<void>;
}

export interface AgentSandboxOptions {
  mode: IsolationMode;
  /** WORKSPACE_ROOT: homes live in `<root>/homes/<jobId>`. */
  root: string;
  /** One per concurrency slot (mode `users`). */
  users?: readonly PasswdEntry[];
  /** The service's CLI config dir: its `.credentials.json` (a `claude /login`) is copied into each home. */
  loginConfigDir?: string;
  logger: WorkspaceLogger;
}

const LOGIN_FILE = ".credentials.json";

export function createAgentSandbox(opts: AgentSandboxOptions): AgentSandbox {
  const root = resolve(opts.root);
  const homes = join(root, "homes");
  const users = opts.users ?? [];
  if (opts.mode === "users" && users.length === 0) throw new Error("mode 'users' needs runner users");
  const slots = createSlotPool(users.length);

  const prepareHome = async (jobId: string) => {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(jobId))
      throw new Error(`job id ${jobId} is not a safe directory name`);
    // Others may pass through to their own home but not list whose jobs run.
    await mkdir(homes, { recursive: true, mode: 0o711 });
    await chmod(homes, 0o711);
    const home = join(homes, jobId);
    await removeTree(home);
    const configDir = join(home, ".claude");
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await mkdir(join(home, "tmp"), { mode: 0o700 });
    await chmod(home, 0o700);
    if (opts.loginConfigDir) {
      await copyFile(join(opts.loginConfigDir, LOGIN_FILE), join(configDir, LOGIN_FILE)).then(
        () => chmod(join(configDir, LOGIN_FILE), 0o600),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") throw err;
        },
      );
    }
    return { home, configDir };
  };

  return {
    mode: opts.mode,
    async open(jobId) {
      const slot = opts.mode === "users" ? slots.acquire() : undefined;
      if (opts.mode === "users" && slot === undefined) throw new Error("no free runner slot");
      const user = slot === undefined ? undefined : users[slot]!;
      let closed = false;
      try {
        const { home, configDir } = await prepareHome(jobId);
        const runAs = user ? { uid: user.uid, gid: user.gid } : undefined;
        const reap = async () => (runAs ? reapUid(runAs.uid) : []);
        return {
          home,
          configDir,
          runAs,
          user: user?.name,
          env: {
            HOME: home,
            CLAUDE_CONFIG_DIR: configDir,
            TMPDIR: join(home, "tmp"),
            ...(user ? { USER: user.name, LOGNAME: user.name } : {}),
          },
          async adopt(checkout) {
            if (!runAs) return;
            const dir = resolve(checkout);
            await chmod(join(dir, ".."), 0o711).catch(() => {});
            await chmod(dir, 0o700);
            await giveTo(runAs, [dir, home]);
          },
          reap,
          async untrustedFile(path) {
            const target = resolve(path);
            const rel = relative(home, target);
            if (rel.startsWith("..") || rel === "") return `${target} is outside the job's home`;
            const chain = componentPaths(target).filter((p) => p.length > home.length);
            const stats = [];
            for (const p of chain) {
              const stat = await lstat(p).catch(() => undefined);
              if (!stat) return `${p} does not exist`;
              stats.push({ path: p, stat });
            }
            return untrustedPathProblem(stats);
          },
          async close() {
            if (closed) return;
            closed = true;
            try {
              const reaped = await reap();
              if (reaped.length)
                opts.logger.warn({ jobId, user: user?.name, reaped }, "killed what the job left running");
              await removeTree(home);
            } finally {
              if (slot !== undefined) slots.release(slot);
            }
          },
        } satisfies JobSandbox;
      } catch (err) {
        if (slot !== undefined) slots.release(slot);
        throw err;
      }
    },
    async sweep() {
      for (const u of users) {
        const reaped = await reapUid(u.uid);
        if (reaped.length)
          opts.logger.warn({ user: u.name, reaped }, "killed processes a runner user left running");
      }
      const left = await readdir(homes).catch(() => [] as string[]);
      for (const name of left) await removeTree(join(homes, name));
    },
  };
}

/**
 * Chowns a tree to the job's user, without following symbolic links, except files with more than
 * one link: those are object files hardlinked from a base clone (`git clone --local`), shared with
 * the base and every other checkout of it. They stay root's and read-only, so the agent can read
 * them, and delete its own links to them, but never change what another job reads.
 */
async function giveTo(runAs: { uid: number; gid: number }, dirs: readonly string[]): Promise<void> {
  await execa("find", [
    ...dirs,
    "!",
    "(",
    "-type",
    "f",
    "-links",
    "+1",
    ")",
    "-exec",
    "chown",
    "-h",
    `${runAs.uid}:${runAs.gid}`,
    "{}",
    "+",
  ]);
}
