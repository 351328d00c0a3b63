import { readdir, readFile } from "node:fs/promises";

/**
 * Pids of live processes whose environment holds every given `name=value` (e.g. the temp HOME a
 * test gave the CLI): how a test proves that nothing it started is left running.
 */
export async function processesWithEnv(match: Record<string, string>): Promise<number[]> {
  const wanted = Object.entries(match).map(([k, v]) => `${k}=${v}`);
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "latin1").catch(() => undefined);
    if (!environ) continue;
    const vars = new Set(environ.split("\0"));
    if (wanted.every((w) => vars.has(w))) pids.push(Number(entry));
  }
  return pids;
}

/** SIGKILLs what `processesWithEnv` finds; for test clean-up after a deliberate crash. */
export async function killProcessesWithEnv(match: Record<string, string>): Promise<number[]> {
  const pids = await processesWithEnv(match);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/** Polls `check` until it holds; for conditions no event announces (a process exiting). */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`timed out waiting for ${opts.what ?? "condition"}${last ? `: ${String(last)}` : ""}`);
}

/** Every live descendant of `pid` (children, grandchildren…), read from /proc. */
export async function descendantPids(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = parents.get(ppid) ?? [];
    list.push(Number(entry));
    parents.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [...(parents.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(parents.get(p) ?? []));
  }
  return out;
}
