import { existsSync, readFileSync } from "node:fs";
import { link, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidsOfUid } from "@claude-gateway/claude";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentSandbox } from "./sandbox.js";
import { ensureRunnerUsers } from "./users.js";

const logger = { info: () => {}, warn: () => {} };
let dir: string;
let login: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cg-sandbox-"));
  login = join(dir, "service-claude");
  await mkdir(login);
  await writeFile(join(login, ".credentials.json"), '{"token":"login"}');
  await writeFile(join(login, "settings.json"), '{"hooks":{}}');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("mode none", () => {
  it("gives each job a fresh home seeded with the login only, and removes it", async () => {
    const root = join(dir, "ws-none");
    const sandbox = createAgentSandbox({ mode: "none", root, loginConfigDir: login, logger });
    const box = await sandbox.open("job-1");
    expect(box.runAs).toBeUndefined();
    expect(box.home).toBe(join(root, "homes", "job-1"));
    expect(box.env).toEqual({
      HOME: box.home,
      CLAUDE_CONFIG_DIR: join(box.home, ".claude"),
      TMPDIR: join(box.home, "tmp"),
    });
    expect(await readFile(join(box.configDir, ".credentials.json"), "utf8")).toBe('{"token":"login"}');
    expect((await stat(join(box.configDir, ".credentials.json"))).mode & 0o777).toBe(0o600);
    // The service's other settings are not copied.
    expect(existsSync(join(box.configDir, "settings.json"))).toBe(false);
    await box.close();
    await box.close();
    expect(existsSync(box.home)).toBe(false);
  });

  it("without a stored login the home is still made", async () => {
    const sandbox = createAgentSandbox({
      mode: "none",
      root: join(dir, "ws-nologin"),
      loginConfigDir: join(dir, "missing"),
      logger,
    });
    const box = await sandbox.open("job-2");
    expect(existsSync(box.configDir)).toBe(true);
    await box.close();
  });

  it("refuses a job id that is not a plain name", async () => {
    const sandbox = createAgentSandbox({ mode: "none", root: join(dir, "ws-bad"), logger });
    await expect(sandbox.open("../etc")).rejects.toThrow(/safe directory name/);
  });

  it("takeFile hands out a regular file, never a planted link or a path outside the home", async () => {
    const sandbox = createAgentSandbox({ mode: "none", root: join(dir, "ws-links"), logger });
    const box = await sandbox.open("job-3");
    const secret = join(dir, "secret");
    await writeFile(secret, "s");
    await mkdir(join(box.configDir, "projects", "p"), { recursive: true });
    await writeFile(join(box.configDir, "projects", "p", "ok.jsonl"), "{}\n");
    await symlink(secret, join(box.configDir, "projects", "p", "evil.jsonl"));
    await symlink(dir, join(box.configDir, "projects", "q"));
    const out = join(box.staging, "out.jsonl");
    expect(await box.takeFile(join(box.configDir, "projects", "p", "ok.jsonl"), out)).toBeUndefined();
    expect(await readFile(out, "utf8")).toBe("{}\n");
    await rm(out);
    expect(await box.takeFile(join(box.configDir, "projects", "p", "evil.jsonl"), out)).toMatch(
      /symbolic link/,
    );
    expect(await box.takeFile(join(box.configDir, "projects", "q", "secret"), out)).toMatch(
      /projects\/q is a symbolic link/,
    );
    expect(await box.takeFile(secret, out)).toMatch(/outside the job's home/);
    expect(await box.takeFile(join(box.configDir, "projects", "p", "none.jsonl"), out)).toMatch(
      /does not exist/,
    );
    expect(existsSync(out)).toBe(false);
    await expect(box.takeFile(join(box.configDir, "projects", "p", "ok.jsonl"), secret)).rejects.toThrow(
      /staging/,
    );
    await box.close();
  });

  it("placeFile copies from staging into the home only", async () => {
    const sandbox = createAgentSandbox({ mode: "none", root: join(dir, "ws-place"), logger });
    const box = await sandbox.open("job-4");
    await writeFile(join(box.staging, "t.jsonl"), "x");
    await box.placeFile(join(box.staging, "t.jsonl"), join(box.configDir, "projects", "p", "t.jsonl"));
    expect(await readFile(join(box.configDir, "projects", "p", "t.jsonl"), "utf8")).toBe("x");
    await expect(box.placeFile(join(box.staging, "t.jsonl"), join(dir, "elsewhere"))).rejects.toThrow(/home/);
    await expect(box.placeFile(join(dir, "secret"), join(box.configDir, "x"))).rejects.toThrow(/staging/);
    await box.close();
    expect(existsSync(box.staging)).toBe(false);
  });
});

describe.skipIf(process.getuid?.() !== 0)("mode users (as root)", () => {
  it("gives the checkout and home to the slot's user, except files shared with a base, and kills what the user left running", async () => {
    const users = await ensureRunnerUsers(["cg-test-runner-0", "cg-test-runner-1"]);
    const root = join(dir, "ws-users");
    const sandbox = createAgentSandbox({ mode: "users", root, users, loginConfigDir: login, logger });
    const [a, b] = [await sandbox.open("job-a"), await sandbox.open("job-b")];
    expect([a.runAs?.uid, b.runAs?.uid]).toEqual([users[0]!.uid, users[1]!.uid]);
    await expect(sandbox.open("job-c")).rejects.toThrow(/no free runner slot/);

    const checkout = join(root, "jobs", "job-a");
    await mkdir(join(checkout, ".git", "objects", "ab"), { recursive: true });
    await writeFile(join(checkout, "file.txt"), "x");
    const base = join(root, "bases", "object");
    await mkdir(join(root, "bases"), { recursive: true });
    await writeFile(base, "shared", { mode: 0o444 });
    await link(base, join(checkout, ".git", "objects", "ab", "cdef"));
    await a.adopt(checkout);
    expect((await stat(checkout)).uid).toBe(users[0]!.uid);
    expect((await stat(checkout)).mode & 0o777).toBe(0o700);
    expect((await stat(join(checkout, "file.txt"))).uid).toBe(users[0]!.uid);
    expect((await stat(join(a.configDir, ".credentials.json"))).uid).toBe(users[0]!.uid);
    // The hardlinked object stays root's: the agent cannot change what the base (and others) read.
    expect((await stat(base)).uid).toBe(0);

    // What the job launches runs as its user; a background child escapes its group and session.
    const launched = a.launcher!(
      {
        file: "/bin/sh",
        args: ["-c", "setsid /bin/sleep 600 > /dev/null 2>&1 & echo $!"],
        cwd: checkout,
        env: {},
        runId: "t",
      },
      { warn: () => {}, info: () => {}, debug: () => {} } as never,
    );
    launched.stdin?.end();
    let out = "";
    launched.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    await launched.exit;
    const child = { pid: Number(out.trim()) };
    expect(await pidsOfUid(a.runAs!.uid)).toContain(child.pid);
    expect(await a.reap()).toContain(child.pid);
    // Killed; at most a zombie until its new parent collects it.
    const running = (await pidsOfUid(a.runAs!.uid)).filter((pid) => {
      try {
        return !/\)\s+[ZX]\s/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    });
    expect(running).toEqual([]);

    await a.close();
    await b.close();
    expect(existsSync(a.home)).toBe(false);
    // The adopted checkout goes with the sandbox (the service may not be allowed to remove it).
    expect(existsSync(checkout)).toBe(false);
    // The slots are free again.
    const again = await sandbox.open("job-d");
    expect(again.runAs?.uid).toBe(users[0]!.uid);
    await again.close();
  });
});
