import { open, readFile, stat, unlink, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";

/** Runs callbacks for the same key one at a time, in call order; different keys run freely. */
export function createKeyedMutex() {
  const tails = new Map<string, Promise<void>>();
  return async function withKey<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
    tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      done();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

export interface FileLockOptions {
  /** A lock whose file was not touched for this long belongs to a dead holder. */
  staleMs: number;
  /** Give up waiting after this long. */
  timeoutMs: number;
}

/** Waited `timeoutMs` for a lock file some other holder kept fresh. */
export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`lock ${path} still held after ${timeoutMs} ms`);
  }
}

interface LockOwner {
  pid: number;
  host: string;
}

// Lock files this process holds right now: one of them with our own pid is live, not a leftover
// of an earlier process that happened to get the same pid (pid 1 in every container, say).
const heldHere = new Set<string>();

/**
 * Holds an exclusive lock file at `path` while `fn` runs. The file is created with `O_EXCL`, so
 * across processes sharing a volume exactly one creator wins; the holder touches it every
 * `staleMs / 3` so a long clone is never mistaken for a crashed holder.
 */
export async function withFileLock<T>(
  path: string,
  options: FileLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  await acquire(path, options);
  const heartbeat = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => {});
    },
    Math.max(1, Math.floor(options.staleMs / 3)),
  );
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    heldHere.delete(path);
    await unlink(path).catch(ignoreMissing);
  }
}

async function acquire(path: string, { staleMs, timeoutMs }: FileLockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, "wx");
      // Before anything else can run: from now on our pid in the file means "live".
      heldHere.add(path);
      try {
        await file.writeFile(JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner));
        await file.close();
      } catch (error) {
        await file.close().catch(() => {});
        heldHere.delete(path);
        await unlink(path).catch(ignoreMissing);
        throw error;
      }
      return;
    } catch (error) {
      if (!isCode(error, "EEXIST")) throw error;
    }
    if (await removeIfStale(path, staleMs)) continue;
    if (Date.now() >= deadline) throw new LockTimeoutError(path, timeoutMs);
    // Polling: a lock file gives no wake-up. Back off to 250 ms, jittered so waiters spread out.
    await delay(Math.min(250, 10 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
  }
}

/**
 * Whether the lock file at `path` was left by a holder that is gone: untouched for `staleMs`, or
 * written by a process on this host that no longer runs.
 */
export async function isStaleLock(path: string, staleMs: number): Promise<boolean> {
  const info = await stat(path).catch(ignoreMissing);
  if (info === undefined) return false;
  if (Date.now() - info.mtimeMs > staleMs) return true;
  if (heldHere.has(path)) return false;
  const owner = parseOwner(await readFile(path, "utf8").catch(() => ""));
  // An empty or half-written file is a holder between create and write: young, so live.
  if (owner === undefined || owner.host !== hostname()) return false;
  return owner.pid === process.pid || !isRunning(owner.pid);
}

/**
 * Removes the lock file at `path` if it is stale; true when it was removed. Re-checks the inode
 * just before unlinking so a lock re-created in between by a live holder is left alone (a
 * microsecond window remains, only ever on recovery from a crash).
 */
export async function removeIfStale(path: string, staleMs: number): Promise<boolean> {
  const before = await stat(path).catch(ignoreMissing);
  if (before === undefined || !(await isStaleLock(path, staleMs))) return false;
  const now = await stat(path).catch(ignoreMissing);
  if (now === undefined || now.ino !== before.ino) return false;
  await unlink(path).catch(ignoreMissing);
  return true;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return undefined;
    const { pid, host } = value as Record<string, unknown>;
    return typeof pid === "number" && typeof host === "string" ? { pid, host } : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return isCode(error, "EPERM");
  }
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function ignoreMissing(error: unknown): undefined {
  if (isCode(error, "ENOENT")) return undefined;
  throw error;
}
