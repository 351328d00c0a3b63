import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lchownSync,
  mkdirSync,
  readdirSync,
} from "node:fs";
import { chmod, chown, copyFile, lstat, mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { type Launcher, localLauncher, reapUid } from "@claude-gateway/claude";
import type { WorkspaceLogger } from "../workspace/index.js";
import { removeTree } from "../workspace/remove.js";
import { componentPaths, untrustedPathProblem } from "./file-access.js";
import type { PasswdEntry } from "./passwd.js";
import { createSlotPool } from "./slots.js";

/**
 * `users`: every job runs as its concurrency slot's own unprivileged user (the sandbox is root:
 * the executor itself, or the runner beside it). `none`: jobs run as the service's own user — they
 * can read its secrets; for a developer's machine.
 */
export type IsolationMode = "users" | "none";

/** Where one job's agent runs, and as whom. */
export interface JobSandbox {
  /** A fresh HOME: the CLI login, and the CLI's own first-run state made at start-up; nothing of any job. */
  readonly home: string;
  /** The CLI's config dir inside `home` (its sessions live here). */
  readonly configDir: string;
  /** The service's own scratch directory for this job (files go in and out of the home through it). */
  readonly staging: string;
  /** HOME, CLAUDE_CONFIG_DIR, TMPDIR (and USER/LOGNAME as the runner user) for every process of the job. */
  readonly env: Readonly<Record<string, string>>;
  /** The user the agent runs as; undefined in mode `none`. */
  readonly runAs: { uid: number; gid: number } | undefined;
  readonly user: string | undefined;
  /** Starts the job's CLI as its user (here, or in the runner); undefined without one. */
  readonly launcher: Launcher | undefined;
  /**
   * Hands the job's checkout and home to the job's user; from here on the service treats what is in
   * them as the agent's (untrusted) and takes files out only through `takeFile`. The checkout is
   * removed with the sandbox.
   */
  adopt(checkout: string): Promise<void>;
  /** Copies `from` (in `staging`) to `to` (in the home, before `adopt`), as the job's user's. */
  placeFile(from: string, to: string): Promise<void>;
  /**
   * Kills every process still running as the job's user. Afterwards nothing of the job can change
   * its files any more, so what `takeFile` checks stays true.
   */
  reap(): Promise<number[]>;
  /**
   * Copies `path` (in the home) to `to` (in `staging`), once nothing of the job runs and only if no
   * component of the path is a link the agent planted and it is a regular file; else says why not.
   */
  takeFile(path: string, to: string): Promise<string | undefined>;
  /** Reaps, removes the home, the checkout and the staging dir, and frees the slot. Idempotent. */
  close(): Promise<void>;
}

export interface AgentSandbox {
  readonly mode: IsolationMode;
  open(jobId: string): Promise<JobSandbox>;
  /** Start-up: kills what runner users left running and removes every home and staging dir. */
  sweep(): Promise<void>;
}

export interface AgentSandboxOptions {
  mode: IsolationMode;
  /** WORKSPACE_ROOT: homes live in `<root>/homes/<jobId>`, staging dirs in `<root>/staging/<jobId>`. */
  root: string;
  /** One per concurrency slot (mode `users`). */
  users?: readonly PasswdEntry[];
  /** The service's CLI config dir: its `.credentials.json` (a `claude /login`) is copied into each home. */
  loginConfigDir?: string;
  /** The CLI's first-run state copied into each home (`makeCliTemplate`). */
  cliTemplate?: { dir: string; entries: readonly string[] };
  /** Who owns staging dirs: the service (default: this process's user). */
  serviceOwner?: { uid: number; gid: number };
  logger: WorkspaceLogger;
}

const LOGIN_FILE = ".credentials.json";

/** A job id names directories: nothing but a plain name gets that far. */
export function safeJobId(jobId: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(jobId)) throw new Error(`job id ${jobId} is not a safe directory name`);
  return jobId;
}

export function createAgentSandbox(opts: AgentSandboxOptions): AgentSandbox {
  const root = resolve(opts.root);
  const homes = join(root, "homes");
  const stagingRoot = join(root, "staging");
  const users = opts.users ?? [];
  if (opts.mode === "users" && users.length === 0) throw new Error("mode 'users' needs runner users");
  const slots = createSlotPool(users.length);
  const owner = opts.serviceOwner ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

  /**
   * A fresh home and staging dir. A dozen small synchronous calls: each is microseconds in the
   * kernel, and through promises each would wait for a slot on libuv's pool.
   */
  const prepare = async (jobId: string) => {
    // Others may pass through to their own home but not list whose jobs run.
    for (const dir of [homes, stagingRoot]) {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      chmodSync(dir, 0o711);
    }
    const home = join(homes, jobId);
    const staging = join(stagingRoot, jobId);
    // Left by a crash: removed the slow way (it may be large and the agent's).
    if (existsSync(home)) await removeTree(home);
    if (existsSync(staging)) await removeTree(staging);
    const configDir = join(home, ".claude");
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    mkdirSync(join(home, "tmp"), { mode: 0o700 });
    chmodSync(home, 0o700);
    mkdirSync(staging, { mode: 0o700 });
    chownSync(staging, owner.uid, owner.gid);
    for (const entry of opts.cliTemplate?.entries ?? []) {
      cpSync(join(opts.cliTemplate!.dir, entry), join(configDir, entry), { recursive: true });
    }
    if (opts.loginConfigDir) {
      try {
        copyFileSync(join(opts.loginConfigDir, LOGIN_FILE), join(configDir, LOGIN_FILE));
        chmodSync(join(configDir, LOGIN_FILE), 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    return { home, configDir, staging };
  };

  const inside = (dir: string, path: string) => {
    const rel = relative(dir, resolve(path));
    return rel !== "" && !rel.startsWith("..") && !rel.startsWith("/");
  };

  return {
    mode: opts.mode,
    async open(id) {
      const jobId = safeJobId(id);
      const slot = opts.mode === "users" ? slots.acquire() : undefined;
      if (opts.mode === "users" && slot === undefined) throw new Error("no free runner slot");
      const user = slot === undefined ? undefined : users[slot]!;
      let closed = false;
      let checkout: string | undefined;
      try {
        const { home, configDir, staging } = await prepare(jobId);
        const runAs = user ? { uid: user.uid, gid: user.gid } : undefined;
        // The slot's user runs only what this sandbox launched: after a reap found it idle, and
        // until the next launch, there is nothing to look for (each look walks /proc).
        let idle = true;
        const reap = async () => {
          if (!runAs || idle) return [];
          const killed = await reapUid(runAs.uid);
          idle = true;
          return killed;
        };
        const launcher: Launcher | undefined = runAs
          ? (spec, log) => {
              idle = false;
              return localLauncher({ ...spec, runAs }, log);
            }
          : undefined;
        const box: JobSandbox = {
          home,
          configDir,
          staging,
          runAs,
          user: user?.name,
          launcher,
          env: {
            HOME: home,
            CLAUDE_CONFIG_DIR: configDir,
            TMPDIR: join(home, "tmp"),
            ...(user ? { USER: user.name, LOGNAME: user.name } : {}),
          },
          async adopt(dir) {
            checkout = resolve(dir);
            if (!runAs) return;
            // Jobs may pass through `jobs/` to their own checkout but not list it, nor read `bases/`
            // (every caller's repositories, whole).
            await chmod(dirname(checkout), 0o711).catch(() => {});
            await chmod(join(dirname(dirname(checkout)), "bases"), 0o700).catch(() => {});
            await chmod(checkout, 0o700);
            await giveTo(runAs, [checkout, home]);
          },
          async placeFile(from, to) {
            if (!inside(staging, from)) throw new Error(`${from} is not in the job's staging dir`);
            if (!inside(home, to)) throw new Error(`${to} is not in the job's home`);
            await mkdir(dirname(to), { recursive: true, mode: 0o700 });
            await copyFile(from, to);
            if (runAs) await giveTo(runAs, [home]);
          },
          reap,
          async takeFile(path, to) {
            if (!inside(staging, to)) throw new Error(`${to} is not in the job's staging dir`);
            const target = resolve(path);
            if (!inside(home, target)) return `${target} is outside the job's home`;
            await reap();
            const chain = componentPaths(target).filter((p) => p.length > home.length);
            const stats = [];
            for (const p of chain) {
              const s = await lstat(p).catch(() => undefined);
              if (!s) return `${p} does not exist`;
              stats.push({ path: p, stat: s });
            }
            const problem = untrustedPathProblem(stats);
            if (problem) return problem;
            await copyFile(target, to);
            await chown(to, owner.uid, owner.gid);
            return undefined;
          },
          async close() {
            if (closed) return;
            closed = true;
            try {
              const reaped = await reap();
              if (reaped.length)
                opts.logger.warn({ jobId, user: user?.name, reaped }, "killed what the job left running");
              await removeTree(home);
              await removeTree(staging);
              if (checkout) await removeTree(checkout);
            } finally {
              if (slot !== undefined) slots.release(slot);
            }
          },
        };
        return box;
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
      for (const dir of [homes, stagingRoot]) {
        const left = await readdir(dir).catch(() => [] as string[]);
        for (const name of left) await removeTree(join(dir, name));
      }
      // Checkouts a crash left with a runner user: the service (not root) could not remove them.
      const uids = new Set(users.map((u) => u.uid));
      const jobs = join(root, "jobs");
      for (const name of await readdir(jobs).catch(() => [] as string[])) {
        const s = await stat(join(jobs, name)).catch(() => undefined);
        if (s && uids.has(s.uid)) await removeTree(join(jobs, name));
      }
    },
  };
}

/**
 * Chowns trees to the job's user, without following symbolic links, except the files under
 * `.git/objects`: a job's clone hardlinks them from its base clone (`git clone --local`), so they are
 * shared with the base and every other checkout of it. They stay the service's and read-only: the
 * agent reads them, adds objects beside them and deletes its own links to them, but never changes
 * what another job reads.
 *
 * Synchronous calls, yielding to the event loop every few hundred: one `lchown` is a microsecond
 * in the kernel but a queue slot on libuv's four-thread pool (measured on 300 files: ~2 ms this way,
 * ~15 ms with promises, ~20 ms with find + chown).
 */
async function giveTo(runAs: { uid: number; gid: number }, dirs: readonly string[]): Promise<void> {
  let ops = 0;
  const chown = async (path: string) => {
    lchownSync(path, runAs.uid, runAs.gid);
    if (++ops % 256 === 0) await new Promise((r) => setImmediate(r));
  };
  const walk = async (dir: string, inObjects: boolean): Promise<void> => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        await chown(path);
        await walk(path, inObjects || (e.name === "objects" && dir.endsWith("/.git")));
      } else if (!inObjects) {
        await chown(path);
      }
    }
  };
  for (const dir of dirs) {
    await chown(dir);
    await walk(dir, false);
  }
}
