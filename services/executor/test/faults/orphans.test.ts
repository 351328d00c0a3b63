import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { toolUse } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../../src/start.js";
import { AUTH, createWorld, getJob, type Json, submit, type World } from "../harness.js";

// Fault: agents that leave processes behind. Each job's Bash tool starts a child in a session of
// its own (`setsid nohup … &`: the CLI's process group does not include it and it outlives the
// CLI), then waits forever in the foreground. 100 such jobs are cancelled once their children
// really run, 100 more reach their deadline with them running, all through one executor: every
// job ends as it should, and not one process of any of them is left.

const JOBS = 100;
const CONCURRENCY = 10;
/**
 * Jobs submitted but not yet running their children, at most. A cold CLI start costs 1.5-2
 * CPU-seconds and the machine has two cores: the more start at once, the longer each takes to
 * reach its tool, and the longer the deadline of the timed-out jobs must be.
 */
const STARTING = 5;
const COMMAND = "setsid nohup tail -f /dev/null >/dev/null 2>&1 & tail -f /dev/null";

let world: World;
let ex: RunningExecutor;
let tracker: ReturnType<typeof trackJobProcesses>;
/** Seconds from a job's CLI launch to its children running, as the cancelled jobs showed. */
const toChildren: number[] = [];
const table: string[] = [];

beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: String(CONCURRENCY) });
  // One CLI start per job: its first turn runs the command, which never returns.
  world.stub.setHandler((req) =>
    JSON.stringify(req.body.messages?.at(-1)?.content).includes("tool_result")
      ? { kind: "hang" }
      : toolUse("Bash", { command: COMMAND, description: "start a background child and wait" }),
  );
  tracker = trackJobProcesses(join(world.workspaceRoot, "homes"));
});
afterAll(async () => {
  tracker?.stop();
  if (table.length)
    console.log(
      [
        `Orphans: ${JOBS} cancels + ${JOBS} timeouts, MAX_CONCURRENCY ${CONCURRENCY}, at most ${STARTING} starting at once`,
        "| scenario | jobs | ended | median s | max s |",
        "|---|---|---|---|---|",
        ...table,
      ].join("\n"),
    );
  await world?.close();
});

describe("jobs whose agent started background children", () => {
  it(`${JOBS} cancelled once their children run: all cancelled, nothing of them left`, async () => {
    const cancelledAt = new Map<string, number>();
    const ids = await feed("cancel", {}, async (id) => {
      expect(await tracker.childrenRunning(id)).toBe(true);
      cancelledAt.set(id, Date.now());
      const res = await fetch(`${ex.url}/jobs/${id}`, { method: "DELETE", headers: AUTH });
      expect(res.status).toBe(202);
    });
    const jobs = await finalStates(ids);
    expect(countBy(jobs, (j) => `${j.status}/${j.error?.reason}`)).toEqual({ "cancelled/cancelled": JOBS });
    expect(leftovers()).toEqual([]);
    for (const id of ids) toChildren.push((cancelledAt.get(id)! - tracker.cliStartedAt(id)!) / 1000);
    row(
      "CLI launch → children running",
      jobs,
      toChildren.map((s) => s * 1000),
    );
    row(
      "cancel → final state",
      jobs,
      jobs.map((j) => Date.parse(j.finishedAt) - cancelledAt.get(j.id)!),
    );
  }, 900_000);

  it(`${JOBS} past their deadline with their children running: all timed_out, nothing of them left`, async () => {
    // The smallest deadline every job's children are surely running by: the contract allows 1 s,
    // but no CLI reaches its tool that fast, and a job that never did proves nothing here.
    const timeoutSeconds = deadlineFrom(toChildren);
    const ids = await feed("deadline", { timeoutSeconds }, (id) => tracker.childrenRunning(id));
    const jobs = await finalStates(ids);
    expect(countBy(jobs, (j) => `${j.status}/${j.error?.reason}`)).toEqual({ "timed_out/timeout": JOBS });
    // The scenario really ran: nearly every job had its children running when its deadline came.
    // (A CLI start slower than the deadline, on a loaded machine, reaches its deadline before its
    // tool: it too must end timed_out with nothing left, as asserted for all.)
    const withChildren = ids.filter((id) => tracker.sawChildren(id)).length;
    expect(withChildren).toBeGreaterThanOrEqual(JOBS * 0.9);
    expect(leftovers()).toEqual([]);
    row(
      `deadline (timeoutSeconds ${timeoutSeconds}; ${withChildren} with children running) → final state`,
      jobs,
      jobs.map((j) => Date.parse(j.finishedAt) - (tracker.cliStartedAt(j.id)! + timeoutSeconds * 1000)),
    );
  }, 900_000);

  it("afterwards: no process of any job, no CLI, nothing queued or running", async () => {
    expect(tracker.jobsSeen()).toBe(2 * JOBS);
    expect(leftovers()).toEqual([]);
    const health = (await (await fetch(`${ex.url}/health`)).json()) as Json;
    expect(health).toMatchObject({ active: 0, queued: 0 });
  });
});

/** Twice the slowest start-up seen, at least 8 s (15 s when the cancels did not run first). */
function deadlineFrom(startups: readonly number[]): number {
  return startups.length ? Math.max(8, Math.ceil(2 * Math.max(...startups))) : 15;
}

/**
 * Submits JOBS jobs, each lane waiting until its last job has `started` (the CLI start-ups are
 * what costs CPU) before submitting the next; the executor queues what its slots cannot take.
 */
async function feed(
  tag: string,
  extra: Record<string, unknown>,
  started: (id: string) => Promise<unknown>,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < JOBS) {
      const i = next++;
      const r = await submit(ex, { agent: "general", prompt: `[${tag} ${i}] hold`, ...extra });
      expect(r.status).toBe(202);
      ids[i] = r.body.jobId as string;
      await started(ids[i]!);
    }
  };
  await Promise.all(Array.from({ length: STARTING }, lane));
  return ids;
}

const TERMINAL = new Set(["succeeded", "failed", "timed_out", "cancelled"]);

/** Every job once all are terminal, or as they stand after `timeoutMs` (a lost one shows). */
async function finalStates(ids: readonly string[], timeoutMs = 300_000): Promise<Json[]> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, Json>();
  while (done.size < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const job = await getJob(ex, id);
      if (TERMINAL.has(job.status)) done.set(id, job);
    }
    if (done.size < ids.length) await new Promise((r) => setTimeout(r, 250));
  }
  return Promise.all(ids.map(async (id) => done.get(id) ?? getJob(ex, id)));
}

function countBy(jobs: readonly Json[], key: (j: Json) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const j of jobs) counts[key(j)] = (counts[key(j)] ?? 0) + 1;
  return counts;
}

function row(scenario: string, jobs: readonly Json[], ms: readonly number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const s = (v: number | undefined) => ((v ?? Number.NaN) / 1000).toFixed(2);
  const ended = Object.entries(countBy(jobs, (j) => j.status))
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  table.push(
    `| ${scenario} | ${jobs.length} | ${ended} | ${s(sorted[Math.floor(sorted.length / 2)])} | ${s(sorted.at(-1))} |`,
  );
}

/**
 * What is left of the jobs: every live process with a job's HOME, this world's stub as its API (a
 * CLI), or the uid of a runner user a job ran as. A zombie is dead: it is not counted.
 */
function leftovers(): string[] {
  return scanProcesses()
    .filter((p) => tracker.jobOf(p) !== undefined || p.cli || tracker.runnerUids.has(p.uid))
    .map((p) => `${p.pid} ${p.comm} uid=${p.uid} home=${p.home ?? "-"}`);
}

interface Proc {
  pid: number;
  comm: string;
  uid: number;
  sid: number;
  /** When it started, in epoch ms (to the clock tick). */
  startMs: number;
  home: string | undefined;
  /** Its environment points the CLI at this world's stub. */
  cli: boolean;
}

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * Every live process but this one. Synchronous reads: the kernel answers each at once, and queued
 * on libuv's four threads hundreds of them take many times as long.
 */
function scanProcesses(): Proc[] {
  const bootMs = Date.now() - Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
  const stubUrl = `ANTHROPIC_BASE_URL=${world.stub.url}`;
  const out: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      // After the name: state ppid pgrp session … starttime (the 20th).
      const fields = stat.slice(close + 2).split(" ");
      if (/^[ZXx]$/.test(fields[0]!)) continue;
      const uid = /\nUid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      const env = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      out.push({
        pid: Number(entry),
        comm: stat.slice(stat.indexOf("(") + 1, close),
        uid: Number(uid),
        sid: Number(fields[3]),
        startMs: bootMs + (Number(fields[19]) * 1000) / TICKS_PER_SECOND,
        home: env.find((v) => v.startsWith("HOME="))?.slice(5),
        cli: env.includes(stubUrl),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Watches /proc for this world's jobs (each runs with HOME `<homes>/<jobId>`): when a job's
 * children run, when its CLI started, which runner users it ran as, and when all of it is gone.
 */
function trackJobProcesses(homes: string) {
  interface Seen {
    tails: Set<number>;
    /** A `tail` leading a session of its own: the child the CLI's process group does not reach. */
    detached: boolean;
    /** Its earliest process: the CLI, which lives as long as its tool's processes do. */
    cliStartMs: number;
    /** Nothing of it was running at the last look. */
    gone: boolean;
  }
  const seen = new Map<string, Seen>();
  const runnerUids = new Set<number>();
  const waiters = new Set<() => void>();
  const prefix = `${homes}/`;
  const jobOf = (p: Pick<Proc, "home">) =>
    p.home?.startsWith(prefix) ? p.home.slice(prefix.length).split("/")[0] : undefined;
  const childrenRun = (id: string) => {
    const s = seen.get(id);
    return s?.detached === true && s.tails.size >= 2;
  };
  const tick = () => {
    const present = new Set<string>();
    for (const p of scanProcesses()) {
      const id = jobOf(p);
      if (id === undefined) continue;
      present.add(id);
      // Runner users (as root); without isolation, jobs run as this process's own user.
      if (p.uid !== process.getuid?.()) runnerUids.add(p.uid);
      let s = seen.get(id);
      if (!s) {
        s = { tails: new Set(), detached: false, cliStartMs: p.startMs, gone: false };
        seen.set(id, s);
      }
      s.cliStartMs = Math.min(s.cliStartMs, p.startMs);
      if (p.comm === "tail") {
        s.tails.add(p.pid);
        if (p.sid === p.pid) s.detached = true;
      }
    }
    for (const [id, s] of seen) s.gone = !present.has(id);
    for (const w of waiters) w();
  };
  const timer = setInterval(tick, 250);
  timer.unref();
  return {
    jobOf,
    runnerUids,
    jobsSeen: () => seen.size,
    sawChildren: childrenRun,
    cliStartedAt: (id: string) => seen.get(id)?.cliStartMs,
    /** True once the job's children run; false if all of it was gone before they did. */
    childrenRunning(id: string, timeoutMs = 300_000): Promise<boolean> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (childrenRun(id)) finish(true);
          else if (seen.get(id)?.gone) finish(false);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`job ${id}: no process of it seen running`));
        }, timeoutMs);
        // A failed test must not be kept alive by the jobs it no longer waits for.
        timer.unref();
        const finish = (running: boolean) => {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(running);
        };
        waiters.add(check);
      });
    },
    stop: () => clearInterval(timer),
  };
}
