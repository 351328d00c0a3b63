/** One entry of `git ls-tree -l -z`: what a path is in a commit, and its size, before it is read. */
export interface TreeEntry {
  mode: string;
  type: string;
  object: string;
  /** Bytes; undefined for what is not a blob. */
  size: number | undefined;
  path: string;
}

/** Parses `git ls-tree -l -z` output (`<mode> <type> <object> <size>\t<path>` records, NUL-ended). */
export function parseTreeEntries(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of output.split("\0")) {
    const tab = record.indexOf("\t");
    if (tab < 0) continue;
    const [mode, type, object, size] = record.slice(0, tab).trim().split(/\s+/);
    if (mode === undefined || type === undefined || object === undefined) continue;
    const bytes = size === undefined || size === "-" ? undefined : Number(size);
    entries.push({
      mode,
      type,
      object,
      size: Number.isFinite(bytes) ? bytes : undefined,
      path: record.slice(tab + 1),
    });
  }
  return entries;
}

/** Regular files only: a symlink (120000) is never followed, a submodule (160000) never read. */
const REGULAR_FILE = new Set(["100644", "100755"]);

/** Why an entry is not read as a small text file, or undefined when it may be. */
export function unreadableBecause(entry: TreeEntry, maxBytes: number): string | undefined {
  if (entry.mode === "120000") return "a symlink";
  if (entry.type !== "blob" || !REGULAR_FILE.has(entry.mode)) return "not a regular file";
  if (entry.size === undefined) return "of unknown size";
  if (entry.size > maxBytes) return `larger than ${maxBytes} bytes (${entry.size})`;
  return undefined;
}
