import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRepoAllowlist } from "./allowlist.js";
import { WorkspaceError } from "./errors.js";
import { type Exec, execaExec } from "./exec.js";
import { createWorkspaceManager, type WorkspaceManagerOptions } from "./manager.js";
import { baseDirName } from "./names.js";

const IDENTITY = {
  GIT_AUTHOR_NAME: "Agent",
  GIT_AUTHOR_EMAIL: "agent@example.invalid",
  GIT_COMMITTER_NAME: "Agent",
  GIT_COMMITTER_EMAIL: "agent@example.invalid",
};

/** git in `cwd`, trimmed stdout. */
function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...IDENTITY } }).trim();
}

function hasObject(repoDir: string, sha: string): boolean {
  return spawnSync("git", ["cat-file", "-e", `${sha}^{object}`], { cwd: repoDir }).status === 0;
}

/** An Exec that records every argv it runs. */
function recordingExec() {
  const calls: string[][] = [];
  const exec: Exec = (file, args, options) => {
    calls.push([file, ...args]);
    return execaExec(file, args, options);
  };
  const count = (...prefix: string[]) => calls.filter((c) => prefix.every((p, i) => c[i] === p)).length;
  return { exec, calls, count };
}

async function expectWorkspaceError(promise: Promise<unknown>, reason: string): Promise<WorkspaceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkspaceError);
  expect((error as WorkspaceError).reason).toBe(reason);
  return error as WorkspaceError;
}

describe("workspace manager", () => {
  let upstream: TempRepo;
  let root: string;
  let cleanupRoot: () => Promise<void>;
  let first: string;
  let second: string;

  beforeEach(async () => {
    upstream = await createTempRepo();
    first = await upstream.commit({ "README.md": "v1\n", "src/app.txt": "one\n" }, "first");
    upstream.git("tag", "-a", "v1", "-m", "release 1");
    second = await upstream.commit({ "README.md": "v2\n" }, "second");
    upstream.git("checkout", "-q", "-b", "feature/x");
    await upstream.commit({ "feature.txt": "feature\n" }, "feature");
    upstream.git("checkout", "-q", "main");
    ({ dir: root, cleanup: cleanupRoot } = await tempDir("cg-ws-"));
  });
  afterEach(async () => {
    await upstream.cleanup();
    await cleanupRoot();
  });

  const manager = (options: Partial<WorkspaceManagerOptions> = {}) =>
    createWorkspaceManager({ root, ...options });
  const baseDir = () => join(root, "bases", baseDirName(upstream.dir));

  it("checks out the default branch, tracking upstream, with origin pointing upstream", async () => {
    const ws = await manager().prepare({ jobId: "job-1", repo: upstream.dir });
    expect(ws.dir).toBe(join(root, "jobs", "job-1"));
    expect(ws.commit).toBe(second);
    expect(ws.branch).toBe("main");
    expect(await readFile(join(ws.dir, "README.md"), "utf8")).toBe("v2\n");
    expect(git(ws.dir, "rev-parse", "HEAD")).toBe(second);
    expect(git(ws.dir, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(git(ws.dir, "status", "--porcelain")).toBe("");
    expect(git(ws.dir, "remote", "get-url", "origin")).toBe(upstream.dir);
    expect(git(ws.dir, "rev-parse", "--abbrev-ref", "@{upstream}")).toBe("origin/main");
    // The root holds exactly the two trees.
    expect((await readdir(root)).sort()).toEqual(["bases", "jobs"]);
  });

  it("checks out a branch, a tag and a commit", async () => {
    const m = manager();
    const branch = await m.prepare({ jobId: "branch", repo: upstream.dir, ref: "feature/x" });
    expect(branch.branch).toBe("feature/x");
    expect(await readFile(join(branch.dir, "feature.txt"), "utf8")).toBe("feature\n");
    expect(git(branch.dir, "rev-parse", "--abbrev-ref", "@{upstream}")).toBe("origin/feature/x");

    const tag = await m.prepare({ jobId: "tag", repo: upstream.dir, ref: "v1" });
    expect(tag.commit).toBe(first);
    expect(tag.branch).toBe("job/tag");
    expect(git(tag.dir, "symbolic-ref", "--short", "HEAD")).toBe("job/tag");
    expect(await readFile(join(tag.dir, "README.md"), "utf8")).toBe("v1\n");

    const sha = await m.prepare({ jobId: "sha", repo: upstream.dir, ref: first });
    expect(sha.commit).toBe(first);
    expect(git(sha.dir, "rev-parse", "HEAD")).toBe(first);

    const short = await m.prepare({ jobId: "short", repo: upstream.dir, ref: second.slice(0, 10) });
    expect(short.commit).toBe(second);

    const qualified = await m.prepare({
      jobId: "qualified",
      repo: upstream.dir,
      ref: "refs/heads/feature/x",
    });
    expect(qualified.branch).toBe("feature/x");
  });

  it("refreshes once when a ref is missing, then finds commits pushed after the base was cloned", async () => {
    const rec = recordingExec();
    const m = manager({ exec: rec.exec }); // default refreshIntervalMs: no routine fetch within 10 s
    await m.prepare({ jobId: "warm", repo: upstream.dir });
    expect(rec.count("git", "clone", "--bare")).toBe(1);
    expect(rec.count("git", "fetch")).toBe(0);

    upstream.git("checkout", "-q", "-b", "later");
    const later = await upstream.commit({ "later.txt": "later\n" }, "later");
    upstream.git("checkout", "-q", "main");

    const ws = await m.prepare({ jobId: "later", repo: upstream.dir, ref: "later" });
    expect(ws.commit).toBe(later);
    expect(rec.count("git", "fetch")).toBe(1);

    // Already fetched: a full sha in the base needs no fetch at all.
    await m.prepare({ jobId: "later-sha", repo: upstream.dir, ref: later });
    expect(rec.count("git", "fetch")).toBe(1);

    const error = await expectWorkspaceError(
      m.prepare({ jobId: "nope", repo: upstream.dir, ref: "no-such-branch" }),
      "ref_not_found",
    );
    expect(error.message).toContain("no-such-branch");
    expect(error.retryable).toBe(false);
    expect(rec.count("git", "fetch")).toBe(2); // exactly one forced refresh
    await expect(stat(join(root, "jobs", "nope"))).rejects.toThrow(/ENOENT/);
  });

  it("refreshes a warm base when due, pruning deleted branches", async () => {
    const rec = recordingExec();
    await manager({ exec: rec.exec, refreshIntervalMs: 0 }).prepare({ jobId: "a", repo: upstream.dir });
    expect(rec.count("git", "fetch")).toBe(0); // just cloned
    const moved = await upstream.commit({ "README.md": "v3\n" }, "third");
    const ws = await manager({ exec: rec.exec, refreshIntervalMs: 0 }).prepare({
      jobId: "b",
      repo: upstream.dir,
    });
    expect(rec.count("git", "fetch")).toBe(1);
    expect(ws.commit).toBe(moved); // the default branch moved: a routine refresh picked it up

    // A deleted upstream branch is pruned from the base.
    upstream.git("branch", "-D", "feature/x");
    await manager({ exec: rec.exec, refreshIntervalMs: 0 }).prepare({ jobId: "c", repo: upstream.dir });
    expect(rec.count("git", "fetch")).toBe(2);
    expect(git(baseDir(), "for-each-ref", "--format=%(refname)", "refs/heads")).toBe("refs/heads/main");

    // Another process with the default interval sees the base's fresh fetch stamp and skips it.
    await manager({ exec: rec.exec }).prepare({ jobId: "d", repo: upstream.dir });
    expect(rec.count("git", "fetch")).toBe(2);
  });

  it("isolates concurrent jobs from each other and from the base", async () => {
    const m = manager();
    await m.prepare({ jobId: "warm", repo: upstream.dir }).then((ws) => ws.release());
    const refsBefore = git(baseDir(), "for-each-ref");
    const fsckBefore = git(baseDir(), "fsck", "--full", "--no-dangling");

    const [a, b] = await Promise.all([
      m.prepare({ jobId: "a", repo: upstream.dir }),
      m.prepare({ jobId: "b", repo: upstream.dir }),
    ]);
    await writeFile(join(a.dir, "README.md"), "from a\n");
    await writeFile(join(b.dir, "README.md"), "from b\n");
    git(a.dir, "commit", "-qam", "a");
    git(b.dir, "commit", "-qam", "b");
    git(a.dir, "gc", "--quiet", "--prune=now"); // a job repacking its own objects must not matter
    expect(await readFile(join(a.dir, "README.md"), "utf8")).toBe("from a\n");
    expect(await readFile(join(b.dir, "README.md"), "utf8")).toBe("from b\n");
    expect(git(a.dir, "log", "-1", "--format=%s")).toBe("a");
    expect(git(b.dir, "log", "-1", "--format=%s")).toBe("b");
    expect(hasObject(b.dir, git(a.dir, "rev-parse", "HEAD"))).toBe(false);
    expect(hasObject(baseDir(), git(a.dir, "rev-parse", "HEAD"))).toBe(false);

    const check = () => {
      expect(git(baseDir(), "for-each-ref")).toBe(refsBefore);
      expect(git(baseDir(), "fsck", "--full", "--no-dangling")).toBe(fsckBefore);
      expect(hasObject(baseDir(), second)).toBe(true);
    };
    check();
    await Promise.all([a.release(), b.release()]);
    check();
    // A fresh job after all that still gets a clean tree.
    const c = await m.prepare({ jobId: "c", repo: upstream.dir });
    expect(await readFile(join(c.dir, "README.md"), "utf8")).toBe("v2\n");
  });

  it("hardlinks the base's object files and uses no alternates", async () => {
    const ws = await manager().prepare({ jobId: "links", repo: upstream.dir });
    const objects = (dir: string) =>
      execFileSync("find", [join(dir, "objects"), "-type", "f", "-path", "*/objects/[0-9a-f][0-9a-f]/*"], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean)
        .concat(
          execFileSync("find", [join(dir, "objects", "pack"), "-type", "f", "-name", "*.pack"], {
            encoding: "utf8",
          })
            .split("\n")
            .filter(Boolean),
        );
    const baseFiles = objects(baseDir());
    expect(baseFiles.some((f) => f.endsWith(".pack"))).toBe(true); // the base holds packs, not loose files
    let shared = 0;
    for (const baseFile of baseFiles) {
      const jobFile = join(ws.dir, ".git", baseFile.slice(baseDir().length + 1));
      const [b, j] = await Promise.all([stat(baseFile), stat(jobFile)]);
      expect(j.ino).toBe(b.ino);
      expect(j.nlink).toBeGreaterThan(1);
      shared++;
    }
    expect(shared).toBe(baseFiles.length);
    await expect(stat(join(ws.dir, ".git", "objects", "info", "alternates"))).rejects.toThrow(/ENOENT/);
    expect(git(ws.dir, "config", "--get", "remote.origin.url")).toBe(upstream.dir);
  });

  it("releases idempotently; sweep removes leftovers and stale locks but keeps bases and live jobs", async () => {
    const m = manager();
    const done = await m.prepare({ jobId: "done", repo: upstream.dir });
    await done.release();
    await done.release();
    await expect(stat(done.dir)).rejects.toThrow(/ENOENT/);

    const live = await m.prepare({ jobId: "live", repo: upstream.dir });
    await mkdir(join(root, "jobs", "crashed", "deep"), { recursive: true });
    const staleLock = join(root, "bases", "0123456789abcdef.lock");
    await writeFile(staleLock, JSON.stringify({ pid: 1, host: "gone" }));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(staleLock, old, old);
    const liveLock = join(root, "bases", "fedcba9876543210.lock");
    await writeFile(liveLock, JSON.stringify({ pid: process.ppid, host: hostname() }));

    // This manager still has "live": it stays.
    expect(await m.sweep()).toEqual([join(root, "jobs", "crashed"), staleLock]);
    expect((await stat(live.dir)).isDirectory()).toBe(true);

    // A new process at start-up sweeps everything under jobs/.
    expect(await manager().sweep()).toEqual([join(root, "jobs", "live")]);
    expect(await readdir(join(root, "jobs"))).toEqual([]);
    expect((await readdir(join(root, "bases"))).sort()).toEqual([
      baseDirName(upstream.dir),
      "fedcba9876543210.lock",
    ]);
    expect(git(baseDir(), "rev-parse", "refs/heads/main")).toBe(second);
    await live.release(); // already gone: fine
  });

  it("lets two processes prepare the same new repository at once: one clone, both succeed", async () => {
    const rec = recordingExec();
    const [one, two] = [manager({ exec: rec.exec }), manager({ exec: rec.exec })];
    const results = await Promise.all([
      one.prepare({ jobId: "p1", repo: upstream.dir }),
      two.prepare({ jobId: "p2", repo: upstream.dir }),
      one.prepare({ jobId: "p3", repo: upstream.dir, ref: "feature/x" }),
      two.prepare({ jobId: "p4", repo: upstream.dir, ref: "v1" }),
    ]);
    expect(results.map((ws) => ws.commit)).toEqual([second, second, expect.any(String), first]);
    expect(rec.count("git", "clone", "--bare")).toBe(1);
    expect(rec.count("git", "fetch")).toBe(0);
    expect(await readdir(join(root, "bases"))).toEqual([baseDirName(upstream.dir)]);
  });

  it("waits for a base lock held by another process", async () => {
    // The other process: takes the lock, clones the base when told to, then lets go.
    const script = `
      const fs = require("node:fs");
      const [lock, url, base] = process.argv.slice(1);
      fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: require("node:os").hostname() }), { flag: "wx" });
      process.stdout.write("locked\\n");
      process.stdin.once("data", () => {
        require("node:child_process").execFileSync("git", ["clone", "--bare", "-q", "--", url, base + ".partial"]);
        fs.renameSync(base + ".partial", base);
        fs.unlinkSync(lock);
        process.exit(0);
      });`;
    await mkdir(join(root, "bases"));
    const other = spawn(process.execPath, ["-e", script, `${baseDir()}.lock`, upstream.dir, baseDir()], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const exited = once(other, "exit");
    await once(other.stdout, "data");

    const rec = recordingExec();
    const error = await expectWorkspaceError(
      manager({ exec: rec.exec, lockWaitMs: 200 }).prepare({ jobId: "blocked", repo: upstream.dir }),
      "lock_timeout",
    );
    expect(error.retryable).toBe(true);
    expect(rec.count("git", "clone")).toBe(0);

    other.stdin.end("go\n");
    const ws = await manager({ exec: rec.exec }).prepare({ jobId: "after", repo: upstream.dir });
    expect(ws.commit).toBe(second);
    expect(rec.count("git", "clone", "--bare")).toBe(0); // the other process's clone was used
    expect((await exited)[0]).toBe(0);
  });

  it("gives a job without a repository an empty directory", async () => {
    const ws = await manager().prepare({ jobId: "plain" });
    expect(ws.dir).toBe(join(root, "jobs", "plain"));
    expect(await readdir(ws.dir)).toEqual([]);
    expect(ws.commit).toBeUndefined();
    await ws.release();
    await expect(stat(ws.dir)).rejects.toThrow(/ENOENT/);
  });

  it("clones an empty repository without checking anything out", async () => {
    const empty = await createTempRepo();
    try {
      const ws = await manager().prepare({ jobId: "empty", repo: empty.dir });
      expect(ws.commit).toBeUndefined();
      expect(git(ws.dir, "remote", "get-url", "origin")).toBe(empty.dir);
    } finally {
      await empty.cleanup();
    }
  });

  it("refuses bad input before touching the disk", async () => {
    const m = manager();
    await expectWorkspaceError(m.prepare({ jobId: "../escape" }), "invalid_job_id");
    await expectWorkspaceError(m.prepare({ jobId: "" }), "invalid_job_id");
    await expectWorkspaceError(
      m.prepare({ jobId: "x", repo: "ext::sh -c touch% /tmp/pwned" }),
      "invalid_repo",
    );
    await expectWorkspaceError(
      m.prepare({ jobId: "x", repo: "--upload-pack=touch /tmp/pwned" }),
      "invalid_repo",
    );
    await expectWorkspaceError(m.prepare({ jobId: "x", repo: "relative/dir" }), "invalid_repo");
    await expectWorkspaceError(m.prepare({ jobId: "x", repo: upstream.dir, ref: "--orphan" }), "invalid_ref");
    await expectWorkspaceError(m.prepare({ jobId: "x", ref: "main" }), "invalid_ref");
    expect(await readdir(root)).toEqual([]);
  });

  it("refuses a job id that already has a directory", async () => {
    const m = manager();
    await m.prepare({ jobId: "twice" });
    await expectWorkspaceError(m.prepare({ jobId: "twice" }), "job_exists");
  });

  it("reports a failed clone with git's stderr and leaves nothing behind", async () => {
    const missing = join(root, "..", `does-not-exist-${process.pid}`);
    const error = await expectWorkspaceError(
      manager().prepare({ jobId: "broken", repo: missing }),
      "clone_failed",
    );
    expect(error.retryable).toBe(true);
    expect(error.stderrTail).toMatch(/does not exist|not a git repository|No such file/i);
    expect(await readdir(join(root, "jobs"))).toEqual([]);
    expect(await readdir(join(root, "bases"))).toEqual([]);
  });

  it("checks a ref before a job is queued: in the warm base, else upstream's branches and tags", async () => {
    const rec = recordingExec();
    const m = manager({ exec: rec.exec });
    // No base yet: upstream is asked, nothing is cloned.
    expect(await m.checkRef(upstream.dir, "feature/x")).toEqual({ status: "found" });
    expect(await m.checkRef(upstream.dir, "v1")).toEqual({ status: "found" });
    expect(await m.checkRef(upstream.dir, "no-such-branch")).toEqual({
      status: "missing",
      detail: `"no-such-branch" is not a branch or tag of ${upstream.dir}`,
    });
    expect(await m.checkRef(upstream.dir, first.slice(0, 12))).toMatchObject({ status: "unknown" });
    expect(rec.count("git", "clone")).toBe(0);
    expect(rec.count("git", "ls-remote")).toBe(4);

    // With a base: what it has needs nobody asked; what it lacks, upstream is asked (never fetched).
    await m.prepare({ jobId: "warm", repo: upstream.dir });
    expect(await m.checkRef(upstream.dir, first)).toEqual({ status: "found" });
    expect(await m.checkRef(upstream.dir, "v1")).toEqual({ status: "found" });
    expect(rec.count("git", "ls-remote")).toBe(4);
    upstream.git("checkout", "-q", "-b", "pushed-later");
    await upstream.commit({ "later.txt": "x\n" });
    expect(await m.checkRef(upstream.dir, "pushed-later")).toEqual({ status: "found" });
    expect(await m.checkRef(upstream.dir, "still-missing")).toMatchObject({ status: "missing" });
    expect(rec.count("git", "ls-remote")).toBe(6);
    expect(rec.count("git", "fetch")).toBe(0);
  });

  it("does not know when upstream cannot be asked in time", async () => {
    const slow: Exec = async (file, args, options) =>
      args[0] === "ls-remote"
        ? {
            failed: true,
            timedOut: true,
            exitCode: undefined,
            stdout: "",
            stderr: "",
            message: `git timed out after ${options.timeoutMs} ms`,
          }
        : execaExec(file, args, options);
    expect(await manager({ exec: slow, refCheckTimeoutMs: 1234 }).checkRef(upstream.dir, "main")).toEqual({
      status: "unknown",
      why: "upstream could not be asked: git timed out after 1234 ms",
    });
    const gone = join(root, "..", `gone-${process.pid}`);
    expect(await manager().checkRef(gone, "main")).toMatchObject({ status: "unknown" });
    // Not something a job could be prepared with: nothing is run.
    expect(await manager().checkRef("ext::sh -c x", "main")).toMatchObject({ status: "unknown" });
  });

  it("with an allowlist, refuses a repository it does not name, before touching the disk", async () => {
    const m = manager({ allowlist: parseRepoAllowlist("https://github.com/acme/").allowlist });
    const error = await expectWorkspaceError(
      m.prepare({ jobId: "refused", repo: upstream.dir }),
      "repo_not_allowed",
    );
    expect(error.message).toContain("local paths and file:// URLs are allowed only under a directory");
    expect(await readdir(root)).toEqual([]);
    const parent = upstream.dir.slice(0, upstream.dir.lastIndexOf("/"));
    const ok = manager({ allowlist: parseRepoAllowlist(`file://${parent}/`).allowlist });
    expect((await ok.prepare({ jobId: "allowed", repo: upstream.dir })).commit).toBe(second);
  });

  it("maps a timed-out command to a WorkspaceError that says so", async () => {
    const exec: Exec = async (file, args, options) =>
      args[0] === "clone"
        ? {
            failed: true,
            timedOut: true,
            exitCode: undefined,
            stdout: "",
            stderr: "",
            message: "git timed out after 5 ms",
          }
        : execaExec(file, args, options);
    const error = await expectWorkspaceError(
      manager({ exec }).prepare({ jobId: "slow", repo: upstream.dir }),
      "clone_failed",
    );
    expect(error.message).toContain("timed out");
  });
});
