/** A snapshot of the processes that matter for reaping: who is whose child. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name sits in parentheses and may itself contain spaces
 * and parentheses, so the fields are read after the last ')'.
 */
export function parseStat(stat: string): ProcessInfo | undefined {
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = Number(stat.slice(0, open).trim());
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields: state ppid pgrp session …
  const [, ppid, pgid, sid] = fields.map(Number);
  if (!Number.isInteger(pid) || ppid === undefined || pgid === undefined || sid === undefined)
    return undefined;
  if ([ppid, pgid, sid].some((n) => !Number.isInteger(n))) return undefined;
  return { pid, ppid, pgid, sid };
}

/**
 * Whether a `/proc/<pid>/stat` line describes a process that has ended: a zombie (`Z`) or one being
 * torn down (`X`, `x`) still has a pid but runs nothing; only its parent's `wait` removes it, and an
 * orphan's parent is init, which reaps when it gets to it.
 */
export function statIsDead(stat: string): boolean {
  const close = stat.lastIndexOf(")");
  if (close < 0) return false;
  const state = stat.slice(close + 1).trim()[0];
  return state === "Z" || state === "X" || state === "x";
}

/** Every descendant of `root` in the snapshot (not `root` itself), parents before children. */
export function descendantsOf(table: readonly ProcessInfo[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Whether a NUL-separated `/proc/<pid>/environ` holds `name=value`. */
export function environHas(environ: string, name: string, value: string): boolean {
  return environ.split("\0").includes(`${name}=${value}`);
}

/**
 * The real and effective uid from `/proc/<pid>/status` (`Uid:\treal\teffective\tsaved\tfs`), or
 * undefined when the line is missing or malformed.
 */
export function parseStatusUids(status: string): { real: number; effective: number } | undefined {
  const line = status.split("\n").find((l) => l.startsWith("Uid:"));
  if (!line) return undefined;
  const [real, effective] = line.slice(4).trim().split(/\s+/).map(Number);
  if (!Number.isInteger(real) || !Number.isInteger(effective)) return undefined;
  return { real: real!, effective: effective! };
}
