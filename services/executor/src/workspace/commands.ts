/**
 * Every git and git-crypt invocation the workspace manager makes, as pure argv data. Values that
 * come from a job (URLs, refs) are validated before they get here and still sit behind `--` or
 * `--end-of-options` wherever git allows it.
 */
export interface Command {
  readonly file: "git" | "git-crypt";
  readonly args: readonly string[];
}

const git = (...args: string[]): Command => ({ file: "git", args });

/**
 * A bare clone to serve as a repository's base. Auto-gc and maintenance are off for good: a gc
 * repacking the base would delete the packs a job clone is hardlinking at that moment. Objects
 * arrive and stay as packs (`--no-local` even for a local upstream, `fetch.unpackLimit=1`), never
 * as thousands of loose files: every job clone hardlinks each object file once.
 */
export const cloneBase = (url: string, dir: string) =>
  git(
    "clone",
    "--bare",
    "--no-local",
    "--quiet",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "fetch.unpackLimit=1",
    "--",
    url,
    dir,
  );

/** Branches map onto the base's own branches (a bare clone has no remote-tracking refs). */
export const setBaseFetchRefspec = () => git("config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*");

/** Branches and tags as upstream has them now, deleted ones included. */
export const fetchBase = () => git("fetch", "--prune", "--prune-tags", "--quiet", "origin");

export const symbolicHead = () => git("symbolic-ref", "--quiet", "HEAD");

export const resolveCommit = (rev: string) =>
  git("rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`);

/**
 * A job's own clone of the base. `--local` hardlinks the object files instead of copying them;
 * `--no-checkout` because the tree is checked out at the resolved commit afterwards. It runs
 * without the base's lock: git reads the base's refs before linking its objects, and the base
 * never loses an object (no gc), so a concurrent fetch cannot leave the job a dangling ref.
 */
export const cloneJob = (baseDir: string, dir: string) =>
  git("clone", "--local", "--no-checkout", "--quiet", "--", baseDir, dir);

export const setOriginUrl = (url: string) => git("config", "remote.origin.url", url);

export const checkoutBranch = (branch: string, commit: string) =>
  git("checkout", "--quiet", "-B", branch, commit, "--");

export const setUpstream = (branch: string) =>
  git("branch", "--quiet", `--set-upstream-to=origin/${branch}`, branch);

/** Tracked `.gitattributes` files at any depth, NUL-separated. */
export const listGitattributes = () => git("ls-files", "-z", "--", ":(glob)**/.gitattributes");

export const gitCryptUnlock = (keyFile: string): Command => ({
  file: "git-crypt",
  args: ["unlock", keyFile],
});

// Variables that would point git at some other repository than the one in `cwd`.
const REPO_OVERRIDES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
];

/**
 * The environment for git and git-crypt: the parent's, minus anything redirecting git to another
 * repository, and with every interactive prompt off so a missing credential fails at once instead
 * of hanging until the timeout.
 */
export function childEnv(parent: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value !== undefined && !REPO_OVERRIDES.includes(key)) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GCM_INTERACTIVE = "never";
  env.GIT_SSH_COMMAND = parent.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes";
  return env;
}
