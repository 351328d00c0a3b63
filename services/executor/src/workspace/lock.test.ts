import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKeyedMutex, isStaleLock, LockTimeoutError, removeIfStale, withFileLock } from "./lock.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("createKeyedMutex", () => {
  it("runs callbacks for one key one at a time, in order", async () => {
    const withKey = createKeyedMutex();
    const events: string[] = [];
    const gate = deferred();
    const first = withKey("repo", async () => {
      events.push("first:start");
      await gate.promise;
      events.push("first:end");
    });
    const second = withKey("repo", async () => {
      events.push("second");
    });
    // A different key is not held up by the first.
    await withKey("other", async () => {
      events.push("other");
    });
    expect(events).toEqual(["first:start", "other"]);
    gate.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(["first:start", "other", "first:end", "second"]);
  });

  it("releases the key when a callback throws", async () => {
    const withKey = createKeyedMutex();
    await expect(withKey("k", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(withKey("k", async () => "next")).resolves.toBe("next");
  });
});

describe("withFileLock", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cg-lock-"));
    path = join(dir, "repo.lock");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const options = { staleMs: 60_000, timeoutMs: 30_000 };

  it("lets one holder in at a time and removes the file afterwards", async () => {
    const events: string[] = [];
    const gate = deferred();
    const entered = deferred();
    const first = withFileLock(path, options, async () => {
      events.push("first:in");
      entered.resolve();
      await gate.promise;
      events.push("first:out");
    });
    await entered.promise;
    const second = withFileLock(path, options, async () => {
      events.push("second:in");
    });
    expect((await stat(path)).isFile()).toBe(true);
    gate.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(["first:in", "first:out", "second:in"]);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it("gives up after timeoutMs while a live holder keeps the lock", async () => {
    const gate = deferred();
    const entered = deferred();
    const holder = withFileLock(path, options, async () => {
      entered.resolve();
      await gate.promise;
    });
    await entered.promise;
    await expect(
      withFileLock(path, { staleMs: 60_000, timeoutMs: 50 }, async () => {}),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    gate.resolve();
    await holder;
  });

  it("takes over a lock nobody touched for staleMs", async () => {
    await writeFile(path, JSON.stringify({ pid: 1, host: "elsewhere" }));
    const old = new Date(Date.now() - 120_000);
    await utimes(path, old, old);
    await expect(withFileLock(path, options, async () => "got it")).resolves.toBe("got it");
  });
});

describe("isStaleLock", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cg-lock-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const lockWith = async (content: string) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.lock`);
    await writeFile(path, content);
    return path;
  };

  it("is stale when its process on this host is gone", async () => {
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    const path = await lockWith(JSON.stringify({ pid: exited, host: hostname() }));
    expect(await isStaleLock(path, 60_000)).toBe(true);
    expect(await removeIfStale(path, 60_000)).toBe(true);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it("is stale when it carries our pid but we do not hold it (a previous run of this process)", async () => {
    const path = await lockWith(JSON.stringify({ pid: process.pid, host: hostname() }));
    expect(await isStaleLock(path, 60_000)).toBe(true);
  });

  it("is live when its process runs, or runs on another host, or is being written", async () => {
    const parent = await lockWith(JSON.stringify({ pid: process.ppid, host: hostname() }));
    const foreign = await lockWith(JSON.stringify({ pid: 999_999_999, host: "other-host" }));
    const empty = await lockWith("");
    for (const path of [parent, foreign, empty]) {
      expect(await isStaleLock(path, 60_000)).toBe(false);
      expect(await removeIfStale(path, 60_000)).toBe(false);
    }
  });

  it("is not stale while this process holds it", async () => {
    const path = join(dir, "held.lock");
    await withFileLock(path, { staleMs: 60_000, timeoutMs: 1_000 }, async () => {
      expect(await isStaleLock(path, 60_000)).toBe(false);
    });
  });

  it("is not a lock when the file is missing", async () => {
    expect(await isStaleLock(join(dir, "missing.lock"), 60_000)).toBe(false);
  });
});
