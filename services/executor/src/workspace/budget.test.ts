import { randomBytes } from "node:crypto";
import { readdir, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diskUsage } from "./disk-usage.js";
import { WorkspaceError } from "./errors.js";
import { type Exec, execaExec } from "./exec.js";
import { createWorkspaceManager, type WorkspaceManagerOptions, type WorkspaceObserver } from "./manager.js";
import { baseDirName } from "./names.js";

const DAY = 24 * 3600_000;
const KiB = 1024;
const MiB = 1024 * KiB;

/** A repository holding ~`bytes` of incompressible data: its base and checkouts are about that big. */
async function bulkyRepo(bytes: number): Promise<TempRepo> {
  return createTempRepo({ "data.bin": randomBytes(bytes).toString("base64") });
}

/** Observer calls, and a way to wait for one (the receipt, never a sleep). */
function recordingObserver() {
  const removed: ("expired" | "budget")[] = [];
  const waitingCounts: number[] = [];
  let onWaiting: ((count: number) => void) | undefined;
  const observer: WorkspaceObserver = {
    baseRemoved: (why) => removed.push(why),
    waiting: (count) => {
      waitingCounts.push(count);
      onWaiting?.(count);
    },
  };
  const waitingReaches = (count: number) =>
    new Promise<void>((resolve) => {
      onWaiting = (c) => {
        if (c === count) resolve();
      };
    });
  return { observer, removed, waitingCounts, waitingReaches };
}

describe("base expiry and the workspace budget", () => {
  const repos: TempRepo[] = [];
  let root: string;
  let cleanupRoot: () => Promise<void>;

  beforeEach(async () => {
    ({ dir: root, cleanup: cleanupRoot } = await tempDir("cg-ws-budget-"));
  });
  afterEach(async () => {
    await Promise.all(repos.splice(0).map((r) => r.cleanup()));
    await cleanupRoot();
  });

  const repo = async (bytes = 4 * KiB) => {
    const r = await bulkyRepo(bytes);
    repos.push(r);
    return r;
  };
  const manager = (options: Partial<WorkspaceManagerOptions> = {}) =>
    createWorkspaceManager({ root, ...options });
  const baseOf = (r: TempRepo) => join(root, "bases", baseDirName(r.dir));
  const bases = async () => (await readdir(join(root, "bases"))).filter((n) => /^[0-9a-f]{16}$/.test(n));
  /** Dates a base's last use `ms` ago. */
  const lastUsed = async (r: TempRepo, msAgo: number) => {
    const at = new Date(Date.now() - msAgo);
    await utimes(join(baseOf(r), "claude-gateway-used"), at, at);
  };

  it("removes bases no job cloned from for the TTL, in maintenance and at start-up", async () => {
    const [old, fresh, later] = [await repo(), await repo(), await repo()];
    const first = recordingObserver();
    const m = manager({ baseTtlMs: 7 * DAY, observer: first.observer });
    for (const [i, r] of [old, fresh, later].entries())
      await (await m.prepare({ jobId: `j${i}`, repo: r.dir })).release();
    await lastUsed(old, 8 * DAY);
    await lastUsed(fresh, 6 * DAY);

    expect(await m.maintain()).toEqual([baseOf(old)]);
    expect(first.removed).toEqual(["expired"]);
    expect((await bases()).sort()).toEqual([baseDirName(fresh.dir), baseDirName(later.dir)].sort());

    // A job cloning from a base makes it new again.
    await (await m.prepare({ jobId: "again", repo: fresh.dir })).release();
    expect(Date.now() - (await stat(join(baseOf(fresh), "claude-gateway-used"))).mtimeMs).toBeLessThan(
      60_000,
    );

    // At start-up, a new process's sweep expires them too (and leaves the used ones).
    await lastUsed(later, 30 * DAY);
    expect(await manager({ baseTtlMs: 7 * DAY }).sweep()).toEqual([baseOf(later)]);
    expect(await bases()).toEqual([baseDirName(fresh.dir)]);
    // A job for an expired repository clones it afresh.
    const ws = await m.prepare({ jobId: "back", repo: old.dir });
    expect(ws.commit).toBe(old.git("rev-parse", "HEAD"));
  });

  it("never removes a base a job is cloning from, here or in another process", async () => {
    const r = await repo();
    await (await manager().prepare({ jobId: "warm", repo: r.dir })).release();
    await lastUsed(r, 30 * DAY);

    // Another process holds the base's lock (a live pid of this host): it is left alone.
    const lock = join(root, "bases", `${baseDirName(r.dir)}.lock`);
    await writeFile(lock, JSON.stringify({ pid: process.ppid, host: hostname() }));
    expect(await manager({ baseTtlMs: DAY }).maintain()).toEqual([]);
    expect(await bases()).toEqual([baseDirName(r.dir)]);
    await unlink(lock);

    // A job of this process, stopped in the middle of its clone: left alone too.
    let cloning!: () => void;
    const cloneStarted = new Promise<void>((resolve) => (cloning = resolve));
    let finishClone!: () => void;
    const cloneMayFinish = new Promise<void>((resolve) => (finishClone = resolve));
    const exec: Exec = async (file, args, options) => {
      if (args[0] === "clone" && args.includes("--local")) {
        cloning();
        await cloneMayFinish;
      }
      return execaExec(file, args, options);
    };
    const m = manager({ baseTtlMs: DAY, exec });
    const preparing = m.prepare({ jobId: "slow", repo: r.dir });
    await cloneStarted;
    await lastUsed(r, 30 * DAY);
    expect(await m.maintain()).toEqual([]);
    finishClone();
    const ws = await preparing;
    expect(ws.commit).toBe(r.git("rev-parse", "HEAD"));
    await ws.release();
  });

  it("over WORKSPACE_MAX_BYTES, removes the least recently used bases first", async () => {
    const [a, b, c] = [await repo(MiB), await repo(MiB), await repo(MiB)];
    const m = manager();
    await (await m.prepare({ jobId: "a", repo: a.dir })).release();
    await (await m.prepare({ jobId: "b", repo: b.dir })).release();
    await lastUsed(a, 2 * DAY);
    await lastUsed(b, DAY);
    const twoBases = await diskUsage(root);

    // Room for about two bases: the third one's job makes the oldest go, and only it.
    const { observer, removed } = recordingObserver();
    const tight = manager({ maxBytes: twoBases - 1, observer });
    const ws = await tight.prepare({ jobId: "c", repo: c.dir });
    expect(ws.commit).toBe(c.git("rev-parse", "HEAD"));
    expect(removed).toEqual(["budget"]);
    expect((await bases()).sort()).toEqual([baseDirName(b.dir), baseDirName(c.dir)].sort());

    // Maintenance does the same without a job.
    await ws.release();
    await lastUsed(c, 3 * DAY);
    expect(await manager({ maxBytes: twoBases / 2 + 64 * KiB }).maintain()).toEqual([baseOf(c)]);
    expect(await bases()).toEqual([baseDirName(b.dir)]);
  });

  it("then makes a new job wait until a job ends and frees space", async () => {
    const r = await repo(MiB);
    const { observer, removed, waitingCounts, waitingReaches } = recordingObserver();
    const warnings: string[] = [];
    const infos: string[] = [];
    const m = manager({
      // A checkout of this repository alone is more than the budget; an empty workspace is far less.
      maxBytes: 512 * KiB,
      observer,
      logger: {
        info: ((_: unknown, msg: string) => infos.push(msg)) as never,
        warn: ((_: unknown, msg: string) => warnings.push(msg)) as never,
      },
      budgetPollMs: 60_000, // only a job's end may wake it here
    });
    const first = await m.prepare({ jobId: "first", repo: r.dir });

    const waiting = waitingReaches(1);
    let ready = false;
    const second = m.prepare({ jobId: "second", repo: r.dir }).then((ws) => {
      ready = true;
      return ws;
    });
    await waiting;
    // The base went first (nobody was cloning from it), and that was not enough.
    expect(removed).toEqual(["budget"]);
    expect(warnings).toContain(
      "workspace over WORKSPACE_MAX_BYTES with no base left to remove: the job waits for space",
    );
    expect(ready).toBe(false);
    await expect(stat(join(root, "jobs", "second"))).rejects.toThrow(/ENOENT/);

    await first.release();
    const ws = await second;
    expect(ws.commit).toBe(r.git("rev-parse", "HEAD"));
    expect(waitingCounts).toEqual([1, 0]);
    expect(infos).toContain("space freed: the job proceeds");
    await ws.release();
  });

  it("a job waiting for space fails as workspace_full after the wait, or as aborted when stopped", async () => {
    const r = await repo(MiB);
    const m = manager({ maxBytes: 512 * KiB, budgetWaitMs: 300, budgetPollMs: 50 });
    const first = await m.prepare({ jobId: "first", repo: r.dir });

    const full = await m.prepare({ jobId: "full" }).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(WorkspaceError);
    expect(full).toMatchObject({ reason: "workspace_full", retryable: true });
    expect((full as Error).message).toContain("WORKSPACE_MAX_BYTES");

    const { observer, waitingReaches } = recordingObserver();
    const patient = manager({ maxBytes: 512 * KiB, observer, budgetPollMs: 60_000 });
    const controller = new AbortController();
    const waiting = waitingReaches(1);
    const stopped = patient.prepare({ jobId: "stopped", signal: controller.signal }).catch((e: unknown) => e);
    await waiting;
    controller.abort(new Error("cancelled"));
    expect(await stopped).toMatchObject({ reason: "aborted" });
    await first.release();
  });

  it("without a budget, nothing is measured and nobody waits", async () => {
    const measured: number[] = [];
    const m = manager({ observer: { measured: (bytes) => measured.push(bytes) } });
    await (await m.prepare({ jobId: "free", repo: (await repo()).dir })).release();
    expect(measured).toEqual([]);
    expect(await m.maintain()).toEqual([]);
  });
});
