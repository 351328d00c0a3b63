import { mkdir, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "@claude-gateway/service-kit";
import {
  type Command,
  checkoutBranch,
  childEnv,
  cloneBase,
  cloneJob,
  fetchBase,
  gitCryptUnlock,
  listGitattributes,
  resolveCommit,
  setBaseFetchRefspec,
  setOriginUrl,
  setUpstream,
  symbolicHead,
} from "./commands.js";
import { WorkspaceError, type WorkspaceErrorReason } from "./errors.js";
import { type Exec, type ExecResult, execaExec } from "./exec.js";
import { declaresGitCrypt } from "./gitattributes.js";
import { createKeyedMutex, isCode, LockTimeoutError, removeIfStale, withFileLock } from "./lock.js";
import { baseDirName, isFullSha, isValidJobId, refProblem } from "./names.js";
import { removeTree } from "./remove.js";
import { redactCredentials, repoUrlProblem } from "./repo-url.js";

/** The logger methods the manager calls. */
export type WorkspaceLogger = Pick<Logger, "info" | "warn">;

export interface WorkspaceJob {
  jobId: string;
  /** Clone this repository; without it the job gets an empty directory. */
  repo?: string;
  /** Branch, tag or commit; the repository's default branch when absent. */
  ref?: string;
}

export interface Workspace {
  /** The job's working tree (absolute). */
  dir: string;
  repo?: string;
  ref?: string;
  /** The checked-out commit; absent without a repository or for an empty one. */
  commit?: string;
  /** The local branch checked out: the requested branch itself, else `job/<jobId>`. */
  branch?: string;
  /** Deletes the checkout. Safe to call more than once. */
  release(): Promise<void>;
}

export interface WorkspaceManager {
  readonly root: string;
  prepare(job: WorkspaceJob): Promise<Workspace>;
  /**
   * Start-up clean-up: removes every `jobs/*` this manager did not hand out and stale lock files.
   * Never touches the base clones. Returns the paths removed.
   */
  sweep(): Promise<string[]>;
}

export interface WorkspaceManagerOptions {
  /** WORKSPACE_ROOT: holds `bases/` (one bare clone per repository) and `jobs/` (one checkout per job). */
  root: string;
  /** A symmetric key from `git-crypt export-key`, used for repositories that use git-crypt. */
  gitCryptKeyFile?: string;
  logger?: WorkspaceLogger;
  /** How commands are run; execa by default. */
  exec?: Exec;
  /** The environment git runs with (prompts are switched off on top of it); `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A base is fetched at most this often, unless a requested ref is missing from it. Default 10 s. */
  refreshIntervalMs?: number;
  /** Timeout of a clone or fetch from upstream. Default 10 min. */
  networkTimeoutMs?: number;
  /** Timeout of every local git command. Default 2 min. */
  localTimeoutMs?: number;
  /** A lock file not refreshed by its holder for this long is taken over. Default 10 min. */
  lockStaleMs?: number;
  /** How long to wait for another holder's lock. Default `networkTimeoutMs` + 1 min. */
  lockWaitMs?: number;
}

const silentLogger: WorkspaceLogger = { info: () => {}, warn: () => {} };

/** Inside a base: its mtime is when the last successful clone or fetch began. */
const FETCH_STAMP = "claude-gateway-fetched";

interface Base {
  repo: string;
  name: string;
  dir: string;
}

interface Target {
  commit: string;
  branch: string;
  /** The branch exists upstream: the local one tracks it. */
  tracks: boolean;
}

/**
 * Isolated git checkouts for jobs, cloned from a warm base per repository.
 *
 * A job's clone hardlinks the base's object files (`git clone --local`) instead of borrowing them
 * through alternates (`--shared`). With alternates the job would read objects out of the base's
 * directory for as long as it lives: it depends on the base, and a repack or prune of the base
 * (once a `fetch --prune` dropped a branch, say) could delete objects the job still needs, while
 * a `gc`/`repack` in the job treats the base's objects as someone else's. Hardlinks give the job
 * its own directory entries for the same files, and git never rewrites an object file (it writes
 * them read-only and only ever creates new ones), so gc, repack or deletion on either side leaves
 * the other intact. What stays shared is the inode: a job that deliberately `chmod`s and edits a
 * file under `.git/objects` would change the base too; stopping that takes another uid or
 * `--no-hardlinks`, not a git option.
 */
export function createWorkspaceManager(options: WorkspaceManagerOptions): WorkspaceManager {
  const root = resolve(options.root);
  const basesDir = join(root, "bases");
  const jobsDir = join(root, "jobs");
  const keyFile = options.gitCryptKeyFile === undefined ? undefined : resolve(options.gitCryptKeyFile);
  const exec = options.exec ?? execaExec;
  const env = childEnv(options.env ?? process.env);
  const log = options.logger ?? silentLogger;
  const refreshIntervalMs = options.refreshIntervalMs ?? 10_000;
  const networkTimeoutMs = options.networkTimeoutMs ?? 10 * 60_000;
  const localTimeoutMs = options.localTimeoutMs ?? 2 * 60_000;
  const lockOptions = {
    staleMs: options.lockStaleMs ?? 10 * 60_000,
    timeoutMs: options.lockWaitMs ?? networkTimeoutMs + 60_000,
  };
  const withKey = createKeyedMutex();
  /** Job directories handed out and not yet released: `sweep` leaves them alone. */
  const live = new Set<string>();

  const run = (command: Command, cwd: string, timeoutMs = localTimeoutMs): Promise<ExecResult> =>
    exec(command.file, command.args, { cwd, env, timeoutMs });

  async function mustRun(
    command: Command,
    cwd: string,
    reason: WorkspaceErrorReason,
    what: string,
    timeoutMs = localTimeoutMs,
  ): Promise<string> {
    const result = await run(command, cwd, timeoutMs);
    if (!result.failed) return result.stdout;
    throw new WorkspaceError(reason, `${what} failed: ${result.message}`, {
      stderrTail: tail(redactCredentials(result.stderr)),
    });
  }

  /** One holder per repository at a time: in this process (mutex), then across processes (file). */
  async function withRepoLock<T>(base: Base, fn: () => Promise<T>): Promise<T> {
    const lockFile = join(basesDir, `${base.name}.lock`);
    try {
      return await withKey(base.name, () => withFileLock(lockFile, lockOptions, fn));
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      throw new WorkspaceError("lock_timeout", `${error.message} (${redactCredentials(base.repo)})`, {
        cause: error,
      });
    }
  }

  /** Makes sure the base exists; true if this call cloned it. */
  async function ensureBase(base: Base): Promise<boolean> {
    if (await exists(base.dir)) return false;
    await mkdir(basesDir, { recursive: true });
    return withRepoLock(base, async () => {
      if (await exists(base.dir)) return false;
      // Clone beside the final name and rename: a crash never leaves a half base that looks whole.
      const partial = `${base.dir}.partial`;
      await removeTree(partial);
      const startedAt = new Date();
      try {
        await mustRun(
          cloneBase(base.repo, partial),
          basesDir,
          "clone_failed",
          `cloning ${redactCredentials(base.repo)}`,
          networkTimeoutMs,
        );
        await mustRun(setBaseFetchRefspec(), partial, "clone_failed", "configuring the base");
        await stampFetch(partial, startedAt);
        await rename(partial, base.dir);
      } catch (error) {
        await removeTree(partial).catch(() => {});
        throw error;
      }
      log.info({ repo: redactCredentials(base.repo), ms: Date.now() - startedAt.getTime() }, "base cloned");
      return true;
    });
  }

  /** Fetches into the base unless a fetch that began at or after `notBefore` already did. */
  async function refresh(base: Base, notBefore: number): Promise<void> {
    if ((await fetchedAt(base.dir)) >= notBefore) return;
    await withRepoLock(base, async () => {
      // Whoever held the lock before us may just have fetched.
      if ((await fetchedAt(base.dir)) >= notBefore) return;
      const startedAt = new Date();
      await mustRun(
        fetchBase(),
        base.dir,
        "fetch_failed",
        `fetching ${redactCredentials(base.repo)}`,
        networkTimeoutMs,
      );
      await stampFetch(base.dir, startedAt);
      log.info({ repo: redactCredentials(base.repo), ms: Date.now() - startedAt.getTime() }, "base fetched");
    });
  }

  async function commitOf(base: Base, rev: string): Promise<string | undefined> {
    const result = await run(resolveCommit(rev), base.dir);
    if (!result.failed) return result.stdout.trim() || undefined;
    if (result.exitCode !== undefined) return undefined; // not a revision of this repository
    throw new WorkspaceError("checkout_failed", `resolving ${rev} failed: ${result.message}`);
  }

  /** The commit and local branch for `ref` in the base as it is now, or undefined. */
  async function lookup(base: Base, jobId: string, ref: string | undefined): Promise<Target | undefined> {
    const jobBranch = `job/${jobId}`;
    if (ref === undefined) {
      const head = await run(symbolicHead(), base.dir);
      const headRef = head.failed ? "" : head.stdout.trim();
      const commit = await commitOf(base, headRef || "HEAD");
      if (commit === undefined) return undefined;
      return headRef.startsWith("refs/heads/")
        ? { commit, branch: headRef.slice("refs/heads/".length), tracks: true }
        : { commit, branch: jobBranch, tracks: false };
    }
    const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
    const branchCommit = await commitOf(base, `refs/heads/${branch}`);
    if (branchCommit !== undefined) return { commit: branchCommit, branch, tracks: true };
    const commit = await commitOf(base, ref);
    return commit === undefined ? undefined : { commit, branch: jobBranch, tracks: false };
  }

  /**
   * Resolves `ref`, refreshing the base first if it is due (not when `justCloned`), and once
   * more if `ref` is missing.
   */
  async function resolveTarget(
    base: Base,
    jobId: string,
    ref: string | undefined,
    justCloned: boolean,
  ): Promise<Target | undefined> {
    let lookedAt = Date.now();
    let target: Target | undefined;
    // A full sha names the same commit forever: if the base has it, it is fresh enough.
    if (justCloned || (ref !== undefined && isFullSha(ref))) target = await lookup(base, jobId, ref);
    if (target === undefined && !justCloned) {
      await refresh(base, Date.now() - refreshIntervalMs);
      lookedAt = Date.now();
      target = await lookup(base, jobId, ref);
    }
    if (target !== undefined) return target;
    // Any fetch that began before the lookup may have missed it: one more, that began after.
    await refresh(base, lookedAt);
    const retried = await lookup(base, jobId, ref);
    if (retried !== undefined || ref === undefined) return retried; // no ref, no commit: an empty repository
    throw new WorkspaceError(
      "ref_not_found",
      `${JSON.stringify(ref)} is not a branch, tag or commit of ${redactCredentials(base.repo)}`,
    );
  }

  async function usesGitCrypt(dir: string): Promise<boolean> {
    const listed = await mustRun(listGitattributes(), dir, "checkout_failed", "listing .gitattributes");
    for (const path of listed.split("\0")) {
      if (path === "") continue;
      const text = await readFile(join(dir, path), "utf8").catch(() => "");
      if (declaresGitCrypt(text)) return true;
    }
    return false;
  }

  async function checkOut(dir: string, jobId: string, repo: string, ref: string | undefined) {
    const name = baseDirName(repo);
    const base: Base = { repo, name, dir: join(basesDir, name) };
    const cloned = await ensureBase(base);
    const target = await resolveTarget(base, jobId, ref, cloned);
    await mustRun(
      cloneJob(base.dir, dir),
      jobsDir,
      "clone_failed",
      "cloning the base into the job directory",
    );
    // Pushes from the agent go upstream, never into the base.
    await mustRun(setOriginUrl(repo), dir, "clone_failed", "setting origin");
    if (target === undefined) return undefined;
    await mustRun(
      checkoutBranch(target.branch, target.commit),
      dir,
      "checkout_failed",
      `checking out ${target.commit}`,
    );
    if (target.tracks) {
      // Only a convenience for `git pull`/`push`: the branch may have vanished from the base meanwhile.
      const upstream = await run(setUpstream(target.branch), dir);
      if (upstream.failed) log.warn({ jobId, branch: target.branch }, "could not set the branch upstream");
    }
    if (await usesGitCrypt(dir)) {
      if (keyFile === undefined) {
        throw new WorkspaceError(
          "git_crypt_key_missing",
          `${redactCredentials(repo)} encrypts files with git-crypt (filter=git-crypt in .gitattributes) ` +
            "but no git-crypt key file is configured",
        );
      }
      await mustRun(gitCryptUnlock(keyFile), dir, "git_crypt_unlock_failed", "git-crypt unlock");
    }
    return target;
  }

  async function prepare(job: WorkspaceJob): Promise<Workspace> {
    const { jobId, repo, ref } = job;
    if (!isValidJobId(jobId)) {
      throw new WorkspaceError(
        "invalid_job_id",
        `job id ${JSON.stringify(jobId.slice(0, 140))} must be 1 to 128 letters, digits, '_' or '-'`,
      );
    }
    if (repo === undefined && ref !== undefined) {
      throw new WorkspaceError("invalid_ref", "a ref needs a repository");
    }
    const repoProblem = repo === undefined ? undefined : repoUrlProblem(repo);
    if (repo !== undefined && repoProblem !== undefined) {
      throw new WorkspaceError(
        "invalid_repo",
        `repository ${JSON.stringify(redactCredentials(repo))} ${repoProblem}`,
      );
    }
    const badRef = ref === undefined ? undefined : refProblem(ref);
    if (badRef !== undefined) throw new WorkspaceError("invalid_ref", `ref ${JSON.stringify(ref)} ${badRef}`);

    await mkdir(jobsDir, { recursive: true });
    const dir = join(jobsDir, jobId);
    try {
      await mkdir(dir);
    } catch (error) {
      if (!isCode(error, "EEXIST")) throw error;
      throw new WorkspaceError(
        "job_exists",
        `${dir} already exists: job ${jobId} is running or was not swept`,
      );
    }
    live.add(dir);
    let removal: Promise<void> | undefined;
    const release = () => {
      removal ??= removeTree(dir).then(
        () => void live.delete(dir),
        (error: unknown) => {
          removal = undefined; // let a later call try again
          throw error;
        },
      );
      return removal;
    };
    if (repo === undefined) return { dir, release };

    const startedAt = Date.now();
    try {
      const target = await checkOut(dir, jobId, repo, ref);
      log.info(
        { jobId, repo: redactCredentials(repo), ref, commit: target?.commit, ms: Date.now() - startedAt },
        "workspace ready",
      );
      return { dir, repo, ref, commit: target?.commit, branch: target?.branch, release };
    } catch (error) {
      await release().catch(() => {});
      throw error;
    }
  }

  async function sweep(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await listDir(jobsDir)) {
      const dir = join(jobsDir, name);
      if (live.has(dir)) continue;
      await removeTree(dir);
      removed.push(dir);
    }
    for (const name of await listDir(basesDir)) {
      const path = join(basesDir, name);
      if (name.endsWith(".lock") && (await removeIfStale(path, lockOptions.staleMs))) removed.push(path);
    }
    if (removed.length > 0) log.info({ removed }, "swept leftover workspaces");
    return removed;
  }

  return { root, prepare, sweep };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isCode(error, "ENOENT")) return false;
    throw error;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isCode(error, "ENOENT")) return [];
    throw error;
  }
}

async function fetchedAt(baseDir: string): Promise<number> {
  try {
    return (await stat(join(baseDir, FETCH_STAMP))).mtimeMs;
  } catch (error) {
    if (isCode(error, "ENOENT")) return 0;
    throw error;
  }
}

/** Dated when the fetch began: anything pushed before then is in the base. */
async function stampFetch(baseDir: string, startedAt: Date): Promise<void> {
  const path = join(baseDir, FETCH_STAMP);
  await writeFile(path, "");
  await utimes(path, startedAt, startedAt);
}

/** The end of a command's stderr: where git says what went wrong. */
function tail(stderr: string, maxLines = 20, maxChars = 2000): string {
  const lines = stderr.trimEnd().split("\n").slice(-maxLines).join("\n");
  return lines.length > maxChars ? lines.slice(-maxChars) : lines;
}
