import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runnerUserName } from "./passwd.js";

/**
 * Which runner users this sandbox has: a uid is sound to reap only while one job of one sandbox
 * runs as it, and several executors (or runners) may share a machine — replicas on one host,
 * tests in parallel. Each claims distinct users for its life: a claim file per user (its pid and a
 * token) in a root-only directory, plus a registry for sandboxes of the same process. A claim of a
 * process that is gone is taken over.
 */
export interface RunnerClaims {
  readonly names: readonly string[];
  release(): void;
}

const claimedInThisProcess = new Set<string>();

export function claimRunnerNames(base: string, count: number, dir: string): RunnerClaims {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names: string[] = [];
  const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
  for (let n = 0; names.length < count; n++) {
    if (n > count + 4096) throw new Error(`no ${count} free runner users of ${base} in ${dir}`);
    const name = runnerUserName(base, n);
    if (claimedInThisProcess.has(name)) continue;
    const file = join(dir, `${name}.claim`);
    const holder = readHolder(file);
    // Another live process has it. Our own pid without the registry's mark: a sandbox of this
    // process that was never closed (it cannot run jobs any more); take it.
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) continue;
    writeFileSync(file, token, { mode: 0o600 });
    claimedInThisProcess.add(name);
    names.push(name);
  }
  let released = false;
  return {
    names,
    release() {
      if (released) return;
      released = true;
      for (const name of names) {
        claimedInThisProcess.delete(name);
        const file = join(dir, `${name}.claim`);
        // Only our own claim: a later holder's stays.
        if (readToken(file) === token) rmSync(file, { force: true });
      }
    },
  };
}

function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readHolder(file: string): number | undefined {
  const pid = Number(readToken(file)?.split(":")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
