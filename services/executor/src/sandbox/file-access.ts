/** The part of `fs.Stats` the checks read. */
export interface ModeOwner {
  mode: number;
  uid: number;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * Whether a user that is neither the owner nor in the group of any path component can read the
 * file: every ancestor directory must grant others search (x) and the file others read (r).
 * `chain` is the lstat of each component from `/` down to the file itself.
 */
export function readableByOthers(chain: readonly ModeOwner[]): boolean {
  if (chain.length === 0) return false;
  const file = chain[chain.length - 1]!;
  const dirs = chain.slice(0, -1);
  return dirs.every((d) => (d.mode & 0o001) !== 0) && (file.mode & 0o004) !== 0;
}

/** Whether every directory in `chain` (the lstat of each component, `/` excluded) lets others pass (x). */
export function searchableByOthers(chain: readonly ModeOwner[]): boolean {
  return chain.every((d) => (d.mode & 0o001) !== 0);
}

/** The absolute paths of `path`'s components, from the first below `/` to `path` itself. */
export function componentPaths(path: string): string[] {
  if (!path.startsWith("/")) throw new Error(`not an absolute path: ${path}`);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new Error(`path must not contain '..': ${path}`);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`);
}

/**
 * Why `path` (inside `root`, both absolute and normalized) cannot be trusted to be what it names:
 * some component below `root` is a symbolic link, or the last one is not a regular file. Used on
 * files an agent could have replaced before the service reads them as itself.
 */
export function untrustedPathProblem(
  components: readonly { path: string; stat: ModeOwner & { isFile(): boolean } }[],
): string | undefined {
  for (const [i, c] of components.entries()) {
    if (c.stat.isSymbolicLink()) return `${c.path} is a symbolic link`;
    const last = i === components.length - 1;
    if (!last && !c.stat.isDirectory()) return `${c.path} is not a directory`;
    if (last && !c.stat.isFile()) return `${c.path} is not a regular file`;
  }
  return undefined;
}
