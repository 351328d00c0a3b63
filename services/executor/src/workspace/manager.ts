import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "@claude-gateway/service-kit";
import { checkRepo, credentialsProblem, type RepoAllowlist } from "./allowlist.js";
import {
  type Command,
  checkoutBranch,
  childEnv,
  cloneBase,
  cloneJob,
  fetchBase,
  gitCryptUnlock,
  listGitattributes,
  lsRemote,
  readBlob,
  resolveCommit,
  setBaseFetchRefspec,
  setOriginUrl,
  setUpstream,
  symbolicHead,
  treeEntries,
} from "./commands.js";
import { diskUsage } from "./disk-usage.js";
import { WorkspaceError, type WorkspaceErrorReason } from "./errors.js";
import { type Exec, type ExecResult, execaExec } from "./exec.js";
import { declaresGitCrypt } from "./gitattributes.js";
import { createKeyedMutex, isCode, LockTimeoutError, removeIfStale, withFileLock } from "./lock.js";
import { baseDirName, isFullSha, isValidJobId, refProblem } from "./names.js";
import { type RefCheck, refInListing } from "./refs.js";
import { removeTree } from "./remove.js";
import { redactCredentials, repoUrlProblem } from "./repo-url.js";
import { parseTreeEntries, unreadableBecause } from "./tree-files.js";

/** The logger methods the manager calls. */
export type WorkspaceLogger = Pick<Logger, "info" | "warn">;

export interface WorkspaceJob {
  jobId: string;
  /** Clone this repository; without it the job gets an empty directory. */
  repo?: string;
  /** Branch, tag or commit; the repository's default branch when absent. */
  ref?: string;
  /** Stops a job that waits for space (the workspace over its budget): it fails as `aborted`. */
  signal?: AbortSignal;
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
  /**
   * The repository's top-level `CLAUDE.md` at the checked-out commit, read from the object
   * database: a regular file (never a symlink) of at most 64 KiB without NUL bytes; absent otherwise.
   */
  projectInstructions?: string;
  /** Deletes the checkout. Safe to call more than once. */
  release(): Promise<void>;
}

export interface WorkspaceManager {
  readonly root: string;
  prepare(job: WorkspaceJob): Promise<Workspace>;
  /**
   * Whether `ref` is something of `repo` (an address the allowlist allows), asked before a job is
   * queued: the warm base if it has it, else upstream's branches and tags (`git ls-remote`, bounded
   * by `refCheckTimeoutMs`). Never fetches, never waits for a lock, never throws.
   */
  checkRef(repo: string, ref: string): Promise<RefCheck>;
  /**
   * Start-up clean-up: removes every `jobs/*` this manager did not hand out, stale lock files,
   * leftovers of interrupted clones and removals, and bases unused for the TTL. Returns the paths
   * removed.
   */
  sweep(): Promise<string[]>;
  /**
   * Removes bases unused for the TTL, then, while the workspace is over its budget, the least
   * recently used ones. Never a base a job is cloning from. Returns the paths removed.
   */
  maintain(): Promise<string[]>;
  /** Stops the periodic maintenance (`maintenanceIntervalMs`). */
  close(): void;
}

/** Where the workspace's numbers go (metrics). */
export interface WorkspaceObserver {
  /** Bytes the whole workspace took when last measured. */
  measured?(bytes: number): void;
  /** A base was removed: unused for the TTL (`expired`), or least recently used over the budget. */
  baseRemoved?(why: "expired" | "budget"): void;
  /** Jobs of this manager now waiting for space. */
  waiting?(count: number): void;
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
  /** REPO_ALLOWLIST, checked again when a job is prepared (it was at submit); unchecked when absent. */
  allowlist?: RepoAllowlist;
  /** GIT_CREDENTIALS_FILE: git credential-store lines for the executor's own clones and fetches. */
  credentialsFile?: string;
  /** A base no job cloned from for this long is removed. Default 7 days. */
  baseTtlMs?: number;
  /**
   * WORKSPACE_MAX_BYTES: over it, least recently used bases are removed, then new jobs wait for
   * space. No budget when absent.
   */
  maxBytes?: number;
  /** How long a job waits for space before it fails as `workspace_full`. Default 15 min. */
  budgetWaitMs?: number;
  /** How often a waiting job measures again (it also does whenever a job here ends). Default 5 s. */
  budgetPollMs?: number;
  /** Runs `maintain()` this often until `close()`; never when absent. */
  maintenanceIntervalMs?: number;
  /**
   * Bound of `checkRef`'s `git ls-remote`. Default 3 s: a submit over NATS must answer within its
   * caller's request timeout (5 s by default), so an upstream slower than that is `unknown`.
   */
  refCheckTimeoutMs?: number;
  observer?: WorkspaceObserver;
}

/** The most of `CLAUDE.md` or a `.gitattributes` that is read: a bigger one counts as absent. */
export const MAX_PROJECT_FILE_BYTES = 64 * 1024;
/** `.gitattributes` files read for git-crypt at most; beyond them a repository is odd enough. */
const MAX_GITATTRIBUTES = 1000;
const PROJECT_INSTRUCTIONS = "CLAUDE.md";

const silentLogger: WorkspaceLogger = { info: () => {}, warn: () => {} };

/** Inside a base: its mtime is when the last successful clone or fetch began. */
const FETCH_STAMP = "claude-gateway-fetched";
/** Inside a base: its mtime is when a job last cloned from it (what expiry and eviction go by). */
const USED_STAMP = "claude-gateway-used";
/** A base's directory name (`baseDirName`); anything else under `bases/` is a lock or a leftover. */
const BASE_NAME = /^[0-9a-f]{16}$/;
/** A base being removed is renamed to `<name><REMOVING>…` first: a half-deleted one never looks whole. */
const REMOVING = ".removing-";

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
 *
 * Bases are kept while used: one no job cloned from for `baseTtlMs` is removed (at start-up and
 * every `maintenanceIntervalMs`), and over `maxBytes` (all of WORKSPACE_ROOT, measured like `du`)
 * the least recently used go first; when none is left to remove, new jobs wait for running ones to
 * end. A base is removed under its lock, which a job holds while cloning from it, and renamed away
 * before it is deleted, so no job ever links from a base that is half gone.
 */
export function createWorkspaceManager(options: WorkspaceManagerOptions): WorkspaceManager {
  const root = resolve(options.root);
  const basesDir = join(root, "bases");
  const jobsDir = join(root, "jobs");
  const keyFile = options.gitCryptKeyFile === undefined ? undefined : resolve(options.gitCryptKeyFile);
  const exec = options.exec ?? execaExec;
  const credentialsFile =
    options.credentialsFile === undefined ? undefined : resolve(options.credentialsFile);
  const env = childEnv(options.env ?? process.env, credentialsFile);
  const log = options.logger ?? silentLogger;
  const observer = options.observer ?? {};
  const refreshIntervalMs = options.refreshIntervalMs ?? 10_000;
  const networkTimeoutMs = options.networkTimeoutMs ?? 10 * 60_000;
  const localTimeoutMs = options.localTimeoutMs ?? 2 * 60_000;
  const baseTtlMs = options.baseTtlMs ?? 7 * 24 * 3600_000;
  const { maxBytes } = options;
  const budgetWaitMs = options.budgetWaitMs ?? 15 * 60_000;
  const budgetPollMs = options.budgetPollMs ?? 5_000;
  const refCheckTimeoutMs = options.refCheckTimeoutMs ?? 3_000;
  const lockOptions = {
    staleMs: options.lockStaleMs ?? 10 * 60_000,
    timeoutMs: options.lockWaitMs ?? networkTimeoutMs + 60_000,
  };
  const withKey = createKeyedMutex();
  /** Job directories handed out and not yet released: `sweep` leaves them alone. */
  const live = new Set<string>();
  /** Bases a job of this process is preparing from, and how many: never removed meanwhile. */
  const inUse = new Map<string, number>();
  /** Bases being removed by this process: a job waits for the removal, then clones afresh. */
  const removing = new Map<string, Promise<unknown>>();
  /** Jobs waiting for space, woken when a job ends or a base is removed. */
  const spaceWaiters = new Set<() => void>();
  let spaceWaiting = 0;
  /** The budget check under way: concurrent callers share it rather than walk the tree each. */
  let roomCheck: Promise<{ used: number; removed: string[] }> | undefined;

  if (options.allowlist?.rules.length === 0) {
    log.warn({ repoAllowlist: [] }, "REPO_ALLOWLIST is not set: every job naming a repository is refused");
  } else if (options.allowlist !== undefined) {
    log.info({ repoAllowlist: options.allowlist.rules.map((rule) => rule.entry) }, "repositories allowed");
  }

  const run = (command: Command, cwd: string, timeoutMs = localTimeoutMs): Promise<ExecResult> =>
    exec(command.file, command.args, {
      cwd,
      env: command.env === undefined ? env : { ...env, ...command.env },
      timeoutMs,
    });

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
  async function withRepoLock<T>(
    base: Base,
    fn: () => Promise<T>,
    lock: { staleMs: number; timeoutMs: number } = lockOptions,
  ): Promise<T> {
    const lockFile = join(basesDir, `${base.name}.lock`);
    try {
      return await withKey(base.name, () => withFileLock(lockFile, lock, fn));
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      throw new WorkspaceError("lock_timeout", `${error.message} (${redactCredentials(base.repo)})`, {
        cause: error,
      });
    }
  }

  const notifySpace = () => {
    for (const wake of spaceWaiters) wake();
  };

  /** Runs `fn` with the base marked in use here, after any removal of it by this process is done. */
  async function using<T>(base: Base, fn: () => Promise<T>): Promise<T> {
    for (let pending = removing.get(base.name); pending; pending = removing.get(base.name)) {
      await pending.catch(() => {});
    }
    inUse.set(base.name, (inUse.get(base.name) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const left = (inUse.get(base.name) ?? 1) - 1;
      if (left === 0) inUse.delete(base.name);
      else inUse.set(base.name, left);
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
        await stamp(partial, FETCH_STAMP, startedAt);
        await stamp(partial, USED_STAMP, startedAt);
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
    if ((await stampedAt(base.dir, FETCH_STAMP)) >= notBefore) return;
    await withRepoLock(base, async () => {
      // Whoever held the lock before us may just have fetched.
      if ((await stampedAt(base.dir, FETCH_STAMP)) >= notBefore) return;
      const startedAt = new Date();
      await mustRun(
        fetchBase(),
        base.dir,
        "fetch_failed",
        `fetching ${redactCredentials(base.repo)}`,
        networkTimeoutMs,
      );
      await stamp(base.dir, FETCH_STAMP, startedAt);
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

  /**
   * Small text files of `commit` read from the object database, never from the working tree: a
   * symlink (`.gitattributes` → `/dev/zero`), a submodule, a file over `MAX_PROJECT_FILE_BYTES` or
   * one with NUL bytes (binary, git-crypt ciphertext) counts as absent. Sizes are known before a
   * byte is read.
   */
  async function readCommitFiles(
    dir: string,
    commit: string,
    paths: readonly string[],
  ): Promise<Map<string, string>> {
    const texts = new Map<string, string>();
    if (paths.length === 0) return texts;
    const listed = await mustRun(treeEntries(commit, paths), dir, "checkout_failed", "listing files");
    for (const entry of parseTreeEntries(listed)) {
      const why = unreadableBecause(entry, MAX_PROJECT_FILE_BYTES);
      if (why !== undefined) {
        log.warn({ path: entry.path, commit, why }, "repository file ignored");
        continue;
      }
      const text = await mustRun(readBlob(entry.object), dir, "checkout_failed", `reading ${entry.path}`);
      if (text.includes("\0")) {
        log.warn({ path: entry.path, commit, why: "binary" }, "repository file ignored");
        continue;
      }
      texts.set(entry.path, text);
    }
    return texts;
  }

  /** Every tracked `.gitattributes` and the top-level `CLAUDE.md` at the checked-out commit. */
  async function readProjectFiles(dir: string, commit: string) {
    const listed = await mustRun(listGitattributes(), dir, "checkout_failed", "listing .gitattributes");
    const attributes = listed.split("\0").filter((path) => path !== "");
    if (attributes.length > MAX_GITATTRIBUTES) {
      log.warn({ count: attributes.length, read: MAX_GITATTRIBUTES }, "too many .gitattributes files");
    }
    const wanted = attributes.slice(0, MAX_GITATTRIBUTES);
    const texts = await readCommitFiles(dir, commit, [...wanted, PROJECT_INSTRUCTIONS]);
    return {
      usesGitCrypt: wanted.some((path) => declaresGitCrypt(texts.get(path) ?? "")),
      instructions: texts.get(PROJECT_INSTRUCTIONS),
    };
  }

  /** Clones the job's checkout from the base, under its lock so the base cannot be removed meanwhile. */
  async function cloneFromBase(base: Base, dir: string): Promise<boolean> {
    return withRepoLock(base, async () => {
      // Only another process removes a base this one is using: then the job clones it afresh.
      if (!(await exists(base.dir))) return false;
      await stamp(base.dir, USED_STAMP, new Date());
      await mustRun(
        cloneJob(base.dir, dir),
        jobsDir,
        "clone_failed",
        "cloning the base into the job directory",
      );
      return true;
    });
  }

  async function checkOut(dir: string, jobId: string, repo: string, ref: string | undefined) {
    const name = baseDirName(repo);
    const base: Base = { repo, name, dir: join(basesDir, name) };
    const target = await using(base, async () => {
      for (let attempt = 1; ; attempt++) {
        const cloned = await ensureBase(base);
        const found = await resolveTarget(base, jobId, ref, cloned);
        if (await cloneFromBase(base, dir)) return found;
        if (attempt === 2) {
          throw new WorkspaceError("clone_failed", "the base was removed twice while the job was cloning it");
        }
      }
    });
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
    const project = await readProjectFiles(dir, target.commit);
    if (project.usesGitCrypt) {
      if (keyFile === undefined) {
        throw new WorkspaceError(
          "git_crypt_key_missing",
          `${redactCredentials(repo)} encrypts files with git-crypt (filter=git-crypt in .gitattributes) ` +
            "but no git-crypt key file is configured",
        );
      }
      await mustRun(gitCryptUnlock(keyFile), dir, "git_crypt_unlock_failed", "git-crypt unlock");
    }
    return { ...target, instructions: project.instructions };
  }

  /** Why `repo` may not be prepared, as the error to throw, or undefined. */
  function repoRefusal(repo: string): WorkspaceError | undefined {
    const shown = JSON.stringify(redactCredentials(repo));
    const problem = repoUrlProblem(repo) ?? credentialsProblem(repo);
    if (problem !== undefined) return new WorkspaceError("invalid_repo", `repository ${shown} ${problem}`);
    if (options.allowlist === undefined) return undefined;
    const verdict = checkRepo(options.allowlist, repo);
    return verdict.allowed ? undefined : new WorkspaceError("repo_not_allowed", verdict.why);
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
    const refused = repo === undefined ? undefined : repoRefusal(repo);
    if (refused !== undefined) throw refused;
    const badRef = ref === undefined ? undefined : refProblem(ref);
    if (badRef !== undefined) throw new WorkspaceError("invalid_ref", `ref ${JSON.stringify(ref)} ${badRef}`);

    await waitForSpace(jobId, job.signal);
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
        () => {
          live.delete(dir);
          notifySpace();
        },
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
      return {
        dir,
        repo,
        ref,
        commit: target?.commit,
        branch: target?.branch,
        ...(target?.instructions !== undefined ? { projectInstructions: target.instructions } : {}),
        release,
      };
    } catch (error) {
      await release().catch(() => {});
      throw error;
    }
  }

  async function checkRef(repo: string, ref: string): Promise<RefCheck> {
    if (repoRefusal(repo) !== undefined || refProblem(ref) !== undefined) {
      return { status: "unknown", why: "not a repository and ref this executor prepares" };
    }
    const base: Base = { repo, name: baseDirName(repo), dir: join(basesDir, baseDirName(repo)) };
    const inBase = (await exists(base.dir))
      ? await lookup(base, "ref-check", ref).catch(() => undefined)
      : undefined;
    if (inBase !== undefined) return { status: "found" };
    await mkdir(root, { recursive: true });
    const listed = await run(lsRemote(repo), root, refCheckTimeoutMs);
    if (listed.failed) {
      log.info(
        { repo: redactCredentials(repo), ref, why: failureOf(listed) },
        "ref not checked before queueing",
      );
      return { status: "unknown", why: `upstream could not be asked: ${failureOf(listed)}` };
    }
    const found = refInListing(listed.stdout, ref);
    if (found === "found") return { status: "found" };
    if (found === "unknown") return { status: "unknown", why: "only the repository's objects can tell" };
    return {
      status: "missing",
      detail: `${JSON.stringify(ref)} is not a branch or tag of ${redactCredentials(repo)}`,
    };
  }

  async function measure(): Promise<number> {
    const bytes = await diskUsage(root);
    observer.measured?.(bytes);
    return bytes;
  }

  /** The bases under `bases/`, least recently used first. */
  async function basesByUse(): Promise<{ name: string; dir: string; usedAt: number }[]> {
    const found = [];
    for (const name of await listDir(basesDir)) {
      if (!BASE_NAME.test(name)) continue;
      const dir = join(basesDir, name);
      found.push({ name, dir, usedAt: await usedAt(dir) });
    }
    return found.sort((a, b) => a.usedAt - b.usedAt);
  }

  /**
   * Removes a base unless a job is preparing from it (here: `inUse`; in another process: its lock,
   * not waited for) or `stillDue` says otherwise under the lock. Renamed first, then deleted.
   */
  async function removeBase(
    name: string,
    why: "expired" | "budget",
    stillDue: (usedAt: number) => boolean,
  ): Promise<string | undefined> {
    if (inUse.has(name) || removing.has(name)) return undefined;
    const dir = join(basesDir, name);
    const removal = withRepoLock(
      { repo: `base ${name}`, name, dir },
      async () => {
        if (!(await exists(dir)) || !stillDue(await usedAt(dir))) return undefined;
        const doomed = `${dir}${REMOVING}${randomBytes(4).toString("hex")}`;
        await rename(dir, doomed);
        await removeTree(doomed);
        return dir;
      },
      { staleMs: lockOptions.staleMs, timeoutMs: 0 },
    ).catch((error: unknown) => {
      if (error instanceof WorkspaceError && error.reason === "lock_timeout") return undefined;
      throw error;
    });
    removing.set(name, removal);
    try {
      const removed = await removal;
      if (removed !== undefined) {
        observer.baseRemoved?.(why);
        notifySpace();
      }
      return removed;
    } finally {
      removing.delete(name);
    }
  }

  async function expireBases(): Promise<string[]> {
    const removed: string[] = [];
    const dueBefore = () => Date.now() - baseTtlMs;
    for (const base of await basesByUse()) {
      if (base.usedAt >= dueBefore()) break; // the rest were used later still
      const gone = await removeBase(base.name, "expired", (at) => at < dueBefore());
      if (gone === undefined) continue;
      log.info(
        { base: base.name, lastUsed: new Date(base.usedAt).toISOString() },
        "base removed: unused for BASE_TTL_SECONDS",
      );
      removed.push(gone);
    }
    return removed;
  }

  /** Measures; over the budget, removes least recently used bases until under it or none is left. */
  function makeRoom(): Promise<{ used: number; removed: string[] }> {
    roomCheck ??= (async () => {
      const removed: string[] = [];
      let used = await measure();
      if (maxBytes === undefined) return { used, removed };
      while (used > maxBytes) {
        let gone: string | undefined;
        for (const base of await basesByUse()) {
          gone = await removeBase(base.name, "budget", () => true);
          if (gone === undefined) continue;
          log.info(
            { base: base.name, lastUsed: new Date(base.usedAt).toISOString(), usedBytes: used, maxBytes },
            "base removed: least recently used while the workspace is over WORKSPACE_MAX_BYTES",
          );
          break;
        }
        if (gone === undefined) break;
        removed.push(gone);
        used = await measure();
      }
      return { used, removed };
    })().finally(() => {
      roomCheck = undefined;
    });
    return roomCheck;
  }

  /** Returns once the workspace is under its budget, removing bases first; waits for space otherwise. */
  async function waitForSpace(jobId: string, signal: AbortSignal | undefined): Promise<void> {
    if (maxBytes === undefined) return;
    const since = Date.now();
    let waiting = false;
    try {
      for (;;) {
        if (signal?.aborted) {
          throw new WorkspaceError("aborted", "stopped while waiting for space in the workspace", {
            cause: signal.reason,
          });
        }
        const { used } = await makeRoom();
        if (used <= maxBytes) {
          if (waiting)
            log.info(
              { jobId, usedBytes: used, maxBytes, waitedMs: Date.now() - since },
              "space freed: the job proceeds",
            );
          return;
        }
        if (!waiting) {
          waiting = true;
          spaceWaiting += 1;
          observer.waiting?.(spaceWaiting);
          log.warn(
            { jobId, usedBytes: used, maxBytes, waitMs: budgetWaitMs },
            "workspace over WORKSPACE_MAX_BYTES with no base left to remove: the job waits for space",
          );
        }
        const left = since + budgetWaitMs - Date.now();
        if (left <= 0) {
          throw new WorkspaceError(
            "workspace_full",
            `the workspace holds ${used} bytes, over its WORKSPACE_MAX_BYTES of ${maxBytes}, ` +
              `and nothing freed space within ${Math.round(budgetWaitMs / 1000)} s`,
          );
        }
        await spaceFreed(Math.min(budgetPollMs, left), signal);
      }
    } finally {
      if (waiting) {
        spaceWaiting -= 1;
        observer.waiting?.(spaceWaiting);
      }
    }
  }
  /** Resolves when a job here ends or a base is removed, after `ms`, or on abort. */
  function spaceFreed(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        spaceWaiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      spaceWaiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  async function maintain(): Promise<string[]> {
    const removed = await expireBases();
    if (maxBytes !== undefined) removed.push(...(await makeRoom()).removed);
    return removed;
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
    for (const name of await listDir(basesDir)) {
      const path = join(basesDir, name);
      if (name.includes(REMOVING)) {
        // A removal that was interrupted: the base was already renamed away.
        await removeTree(path);
        removed.push(path);
      } else if (name.endsWith(".partial") && (await removePartial(name.slice(0, -".partial".length)))) {
        removed.push(path);
      }
    }
    removed.push(...(await expireBases()));
    if (removed.length > 0) log.info({ removed }, "swept leftover workspaces");
    return removed;
  }

  /** An interrupted clone's leftover, removed under its lock unless a clone is under way. */
  async function removePartial(name: string): Promise<boolean> {
    const base = { repo: `base ${name}`, name, dir: join(basesDir, name) };
    return withRepoLock(
      base,
      async () => {
        await removeTree(`${base.dir}.partial`);
        return true;
      },
      { staleMs: lockOptions.staleMs, timeoutMs: 0 },
    ).catch(() => false);
  }

  const timer =
    options.maintenanceIntervalMs === undefined
      ? undefined
      : setInterval(() => {
          maintain().catch((error: unknown) => log.warn({ err: error }, "workspace maintenance failed"));
        }, options.maintenanceIntervalMs);
  timer?.unref();

  return {
    root,
    prepare,
    checkRef,
    sweep,
    maintain,
    close: () => clearInterval(timer),
  };
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

/** When a stamp file in a base was last dated; 0 when it has none. */
async function stampedAt(baseDir: string, name: string): Promise<number> {
  try {
    return (await stat(join(baseDir, name))).mtimeMs;
  } catch (error) {
    if (isCode(error, "ENOENT")) return 0;
    throw error;
  }
}

/** When a job last cloned from the base: its use stamp, else its last fetch, else its directory. */
async function usedAt(baseDir: string): Promise<number> {
  const used = await stampedAt(baseDir, USED_STAMP);
  if (used > 0) return used;
  const fetched = await stampedAt(baseDir, FETCH_STAMP);
  if (fetched > 0) return fetched;
  return (await stat(baseDir).catch(() => undefined))?.mtimeMs ?? 0;
}

/** Dates a stamp file: a fetch's when it began (anything pushed before then is in the base). */
async function stamp(baseDir: string, name: string, at: Date): Promise<void> {
  const path = join(baseDir, name);
  await writeFile(path, "");
  await utimes(path, at, at);
}

/** A failed command in a line: the end of its stderr, else how it ended. */
function failureOf(run: ExecResult): string {
  return tail(redactCredentials(run.stderr), 3, 300) || run.message;
}

/** The end of a command's stderr: where git says what went wrong. */
function tail(stderr: string, maxLines = 20, maxChars = 2000): string {
  const lines = stderr.trimEnd().split("\n").slice(-maxLines).join("\n");
  return lines.length > maxChars ? lines.slice(-maxChars) : lines;
}
