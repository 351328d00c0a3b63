/**
 * Every git and git-crypt invocation the workspace manager makes, as pure argv data. Values that
 * come from a job (URLs, refs) are validated before they get here and still sit behind `--` or
 * `--end-of-options` wherever git allows it.
 */
export interface Command {
  readonly file: "git" | "git-crypt";
  readonly args: readonly string[];
  /** Set on top of the manager's environment for this command alone. */
  readonly env?: Readonly<Record<string, string>>;
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
 * The branches and tags upstream has now, without fetching anything: whether a ref exists before a
 * job is queued for it.
 */
export const lsRemote = (url: string) => git("ls-remote", "--heads", "--tags", "--quiet", "--", url);

/**
 * A job's own clone of the base. `--local` hardlinks the object files instead of copying them;
 * `--no-checkout` because the tree is checked out at the resolved commit afterwards. It runs under
 * the base's lock only so that the base is never removed (expired, evicted) while it is linked
 * from; git reads the base's refs before linking its objects, and the base never loses an object
 * (no gc), so a concurrent fetch could not leave the job a dangling ref anyway.
 */
export const cloneJob = (baseDir: string, dir: string) =>
  git("clone", "--local", "--no-checkout", "--quiet", "--", baseDir, dir);

export const setOriginUrl = (url: string) => git("config", "remote.origin.url", url);

export const checkoutBranch = (branch: string, commit: string) =>
  git("checkout", "--quiet", "-B", branch, commit, "--");

export const setUpstream = (branch: string) =>
  git("branch", "--quiet", `--set-upstream-to=origin/${branch}`, branch);

/** Tracked `.gitattributes` files at any depth, NUL-separated (names only, from the index). */
export const listGitattributes = () => git("ls-files", "-z", "--", ":(glob)**/.gitattributes");

/**
 * `<mode> <type> <object> <size>\t<path>` of each of `paths` in `commit`'s tree, NUL-separated: what
 * a file is (a symlink is mode 120000) and how big, before a byte of it is read.
 */
export const treeEntries = (commit: string, paths: readonly string[]): Command => ({
  ...git("ls-tree", "-l", "-z", "--full-tree", "--end-of-options", commit, "--", ...paths),
  // A tracked path may well start with `:(`; here it is a name, never pathspec magic.
  env: { GIT_LITERAL_PATHSPECS: "1" },
});

export const readBlob = (object: string) => git("cat-file", "blob", object);

export const gitCryptUnlock = (keyFile: string): Command => ({
  file: "git-crypt",
  args: ["unlock", keyFile],
});

// Variables that would point git at some other repository than the one in `cwd`, or at other
// configuration than ours.
const REPO_OVERRIDES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CONFIG",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_CONFIG_SYSTEM",
  "GIT_CURL_VERBOSE",
];
// Tracing would write request headers, an Authorization among them, into the stderr we keep.
const DROPPED_PREFIXES = ["GIT_TRACE", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"];

/**
 * The environment for git and git-crypt: the parent's, minus anything redirecting git to another
 * repository or configuration, and with every interactive prompt off so a missing credential fails
 * at once instead of hanging until the timeout.
 *
 * No global or system configuration is read: the agents share the executor's HOME, and a
 * `~/.gitconfig` one of them wrote (a credential helper, `core.fsmonitor`) must not run in the
 * executor's own git. The only credential helper is ours, reading `credentialsFile` (git's
 * credential-store format) for `get` alone: git's `store` and `erase` after a rejected login would
 * otherwise rewrite the deployer's file. It lives in this environment, never in a repository's
 * config, so no base or checkout ever holds it, and the agent's own git never sees it.
 */
export function childEnv(
  parent: Readonly<Record<string, string | undefined>>,
  credentialsFile?: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined || REPO_OVERRIDES.includes(key)) continue;
    if (DROPPED_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
    env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GCM_INTERACTIVE = "never";
  env.GIT_SSH_COMMAND = parent.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes";
  env.GIT_CONFIG_GLOBAL = "/dev/null";
  env.GIT_CONFIG_NOSYSTEM = "1";
  // An empty helper first clears any a repository's own config names.
  const helpers = credentialsFile === undefined ? [""] : ["", credentialStoreHelper(credentialsFile)];
  env.GIT_CONFIG_COUNT = String(helpers.length);
  helpers.forEach((helper, i) => {
    env[`GIT_CONFIG_KEY_${i}`] = "credential.helper";
    env[`GIT_CONFIG_VALUE_${i}`] = helper;
  });
  return env;
}

/** A helper (run by git through the shell) that answers `get` from a credential-store file, only. */
export function credentialStoreHelper(file: string): string {
  return `!f() { test "$1" = get && exec git credential-store --file=${shellQuote(file)} get; }; f`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
