import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import {
  descendantsOf,
  environHas,
  type ProcessInfo,
  parseStat,
  parseStatusUids,
  statIsDead,
} from "./process-table.js";

/**
 * Finds and kills what a run leaves behind. The CLI runs each Bash tool command in its own
 * session, so killing the CLI's process group misses them; and once the CLI is gone they are
 * re-parented away from it. Two nets catch them: the descendant tree (taken while the CLI
 * lives) and the run's marker variable, which every tool process inherits.
 */
export async function readProcessTable(): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  // One at a time, synchronously (see `pidsWithMarker`).
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue;
    }
    const info = parseStat(stat);
    if (info) out.push(info);
  }
  return out;
}

export async function descendantPids(root: number): Promise<number[]> {
  return descendantsOf(await readProcessTable(), root);
}

/**
 * Processes whose environment carries `name=value` (only our own processes are readable). Read one
 * at a time, synchronously, like `pidsOfUid`: the kernel answers each at once, and opening every
 * `/proc/<pid>/environ` together held a descriptor and a buffer per process of the machine at the
 * same moment (a soak on a busy host: 175 open files at the peak, and the allocator kept the memory).
 */
export async function pidsWithMarker(name: string, value: string): Promise<number[]> {
  const hits: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return hits;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${e}/environ`, "latin1");
    } catch {
      continue;
    }
    if (environHas(environ, name, value)) hits.push(Number(e));
  }
  return hits;
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` still runs: a zombie waiting for its parent (init, for an orphan) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  return !statIsDead(stat);
}

/**
 * SIGKILLs every process of the run that is still alive and waits (up to `waitMs`) until none is
 * left, killing again whatever a dying process managed to fork. Returns the pids it killed.
 */
export async function reapRun(
  markerName: string,
  runId: string,
  known: readonly number[],
  waitMs = 2000,
): Promise<number[]> {
  const killed = new Set<number>();
  const deadline = Date.now() + waitMs;
  let candidates = [...known];
  for (;;) {
    const marked = await pidsWithMarker(markerName, runId);
    const markedSet = new Set(marked);
    const alive: number[] = [];
    for (const pid of new Set([...candidates, ...marked])) {
      // A known pid that lost the marker may have been reused by an unrelated process: leave it.
      if (!markedSet.has(pid) && !(await stillCarries(pid, markerName, runId))) continue;
      alive.push(pid);
      if (signal(pid, "SIGKILL")) killed.add(pid);
    }
    // SIGKILL is delivered asynchronously; a dying process keeps its environ until it is gone.
    if (alive.length === 0 || Date.now() > deadline) break;
    candidates = alive;
    await new Promise((r) => setTimeout(r, 20));
  }
  return [...killed];
}

async function stillCarries(pid: number, name: string, value: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, "latin1").catch(() => undefined);
  return environ !== undefined && environHas(environ, name, value);
}

/**
 * Every process (but this one) whose real or effective uid is `uid`. Read synchronously: the kernel
 * answers each `/proc/<pid>/status` at once, and queueing a hundred of them on libuv's four-thread
 * pool costs ten times as long (measured: ~14 ms async, ~2 ms sync for 86 processes).
 */
export async function pidsOfUid(uid: number): Promise<number[]> {
  const hits: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return hits;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${e}/status`, "utf8");
    } catch {
      continue;
    }
    const uids = parseStatusUids(status);
    if (uids && (uids.real === uid || uids.effective === uid)) hits.push(Number(e));
  }
  return hits;
}

/**
 * SIGKILLs every process running as `uid` until none is left (or `waitMs` passes), and returns the
 * pids it killed. Unlike a marker variable or a process group, a uid cannot be shed by an
 * unprivileged process: `env -i`, `setsid` and double forks all keep it. Only sound when `uid` is
 * given to one run at a time and to nothing else.
 */
export async function reapUid(uid: number, waitMs = 5000): Promise<number[]> {
  if (uid === 0 || uid === process.getuid?.())
    throw new Error(`refusing to reap uid ${uid}: it is not a runner's`);
  const killed = new Set<number>();
  const deadline = Date.now() + waitMs;
  for (;;) {
    const alive = await pidsOfUid(uid);
    // A process forking in a loop is killed again on the next pass; a zombie stays until reaped
    // by its parent and is harmless (it holds no resources but its pid).
    const running = (
      await Promise.all(alive.map(async (pid) => ((await isZombie(pid)) ? undefined : pid)))
    ).filter((p): p is number => p !== undefined);
    if (running.length === 0 || Date.now() > deadline) break;
    for (const pid of running) if (signal(pid, "SIGKILL")) killed.add(pid);
    await new Promise((r) => setTimeout(r, 10));
  }
  return [...killed];
}

async function isZombie(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return true;
  return /\)\s+[ZX]\s/.test(stat);
}
