import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { descendantPids } from "@claude-gateway/testkit";

/** What a process holds at one moment, read from /proc. */
export interface ProcSample {
  rssMb: number;
  /**
   * The anonymous part of RSS (`RssAnon`: heap, stacks, the allocator's arenas), without the mapped
   * binary and files: what a leak grows.
   */
  anonMb: number;
  fds: number;
}

/** Resident memory (VmRSS) of one process, its children excluded. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** Open file descriptors of one process (sockets, pipes, files). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** `RssAnon` of one process, in MB. */
export function anonMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

export function sampleProcess(pid: number): ProcSample {
  return { rssMb: rssMb(pid), anonMb: anonMb(pid), fds: openFds(pid) };
}

/**
 * The smallest RSS and FD count over `samples` reads `intervalMs` apart: another process's
 * garbage collector cannot be forced, so a quiet process is read several times and the floor taken.
 */
export async function settledSample(pid: number, samples = 5, intervalMs = 1000): Promise<ProcSample> {
  let best = sampleProcess(pid);
  for (let i = 1; i < samples; i++) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const s = sampleProcess(pid);
    best = {
      rssMb: Math.min(best.rssMb, s.rssMb),
      anonMb: Math.min(best.anonMb, s.anonMb),
      fds: Math.min(best.fds, s.fds),
    };
  }
  return best;
}

/** The highest of each measure seen so far. */
export const maxSample = (a: ProcSample, b: ProcSample): ProcSample => ({
  rssMb: Math.max(a.rssMb, b.rssMb),
  anonMb: Math.max(a.anonMb, b.anonMb),
  fds: Math.max(a.fds, b.fds),
});

/** Live descendants of `pid` running the binary `bin` (the CLI processes a service started). */
export async function processesRunning(pid: number, bin: string): Promise<number[]> {
  const target = realpathSync(bin);
  const exeOf = (p: number) => {
    try {
      return readlinkSync(`/proc/${p}/exe`);
    } catch {
      return undefined; // exited meanwhile
    }
  };
  return (await descendantPids(pid)).filter((p) => exeOf(p) === target);
}
