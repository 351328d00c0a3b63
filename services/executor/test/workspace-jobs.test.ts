import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { RemoteServiceError } from "@claude-gateway/nats";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../src/start.js";
import {
  AUTH,
  createWorld,
  type Json,
  overNats,
  scriptBash,
  submit,
  toolResultOf,
  type World,
  waitForJob,
} from "./harness.js";

// The `general` agent (Bash enabled, permissions skipped inside its own checkout) on real repos.
let world: World;
let upstream: TempRepo;
let crypt: TempRepo;
let keys: { dir: string; cleanup(): Promise<void> };
const SECRET = "the launch code is 0000";

beforeAll(async () => {
  world = await createWorld();
  upstream = await createTempRepo({ "shared.txt": "original\n", "README.md": "# demo\n" });
  crypt = await createTempRepo();
  crypt.git("config", "user.name", "Test");
  crypt.git("config", "user.email", "test@example.invalid");
  execFileSync("git-crypt", ["init"], { cwd: crypt.dir, stdio: "ignore" });
  await crypt.commit({
    ".gitattributes": "secret.txt filter=git-crypt diff=git-crypt\n",
    "secret.txt": `${SECRET}\n`,
  });
  keys = await tempDir("cg-keys-");
  execFileSync("git-crypt", ["export-key", join(keys.dir, "key")], { cwd: crypt.dir });
});
afterAll(async () => {
  await world?.close();
  await upstream?.cleanup();
  await crypt?.cleanup();
  await keys?.cleanup();
});

describe("jobs in isolated checkouts", () => {
  let ex: RunningExecutor;
  beforeAll(async () => {
    ex = await world.start({ MAX_CONCURRENCY: "2" });
  });
  afterAll(() => ex.stop());

  it("two concurrent jobs writing the same file don't see each other; the base and upstream are untouched; checkouts are removed", async () => {
    world.stub.reset();
    const cmd = (who: string) =>
      `echo ${who} > shared.txt && git commit -qam "${who}" && sleep 1 && cat shared.txt && git log --format=%s -1`;
    scriptBash(world, { A: cmd("from-A"), B: cmd("from-B") });
    const [a, b] = await Promise.all(
      ["A", "B"].map((tag) =>
        submit(ex, { agent: "general", prompt: `[tag:${tag}] edit`, repo: upstream.dir }),
      ),
    );
    const jobs = await Promise.all([waitForJob(ex, a!.body.jobId), waitForJob(ex, b!.body.jobId)]);
    expect(jobs.map((j) => j.status)).toEqual(["succeeded", "succeeded"]);
    // They really overlapped, and each saw only its own write and commit.
    expect(Date.parse(jobs[0]!.startedAt)).toBeLessThan(Date.parse(jobs[1]!.finishedAt));
    expect(Date.parse(jobs[1]!.startedAt)).toBeLessThan(Date.parse(jobs[0]!.finishedAt));
    const ra = toolResultOf(world, "A");
    const rb = toolResultOf(world, "B");
    expect(ra).toContain("from-A");
    expect(ra).not.toContain("from-B");
    expect(rb).toContain("from-B");
    expect(rb).not.toContain("from-A");
    // Agents commit with the configured identity.
    expect(ra).not.toContain("Author identity unknown");

    // Upstream unchanged; the warm base has no job's commit and is consistent.
    expect(upstream.git("log", "--format=%s")).toBe("initial");
    expect(upstream.git("status", "--porcelain")).toBe("");
    const bases = join(world.workspaceRoot, "bases");
    const baseDirs = (await readdir(bases)).filter((d) => !d.includes("."));
    expect(baseDirs).toHaveLength(1);
    const base = join(bases, baseDirs[0]!);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: base, encoding: "utf8" }).trim();
    expect(git("log", "--all", "--format=%s")).toBe("initial");
    git("fsck", "--no-progress");
    // Checkouts are gone.
    const jobsDir = join(world.workspaceRoot, "jobs");
    expect(existsSync(jobsDir) ? await readdir(jobsDir) : []).toEqual([]);
  });

  it("a git-crypt repository without a configured key fails with a clear workspace error", async () => {
    world.stub.reset();
    const r = await submit(ex, { agent: "general", prompt: "read the secret", repo: crypt.dir });
    const job = await waitForJob(ex, r.body.jobId);
    expect(job).toMatchObject({ status: "failed", error: { reason: "workspace_error" } });
    expect(job.error.message).toMatch(/git_crypt_key_missing/);
    expect(world.stub.turnRequests()).toEqual([]);
  });
});

describe("which repositories, and refs, a job may ask for", () => {
  let ex: RunningExecutor;
  let nc: NatsConnection;
  beforeAll(async () => {
    ex = await world.start({ REPO_ALLOWLIST: `https://github.com/acme/,${upstream.dir}` });
    nc = await connect({ servers: world.nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await ex?.stop();
  });

  it("a repository REPO_ALLOWLIST does not name is a 403 repo_not_allowed, over HTTP and NATS alike", async () => {
    world.stub.reset();
    const r = await submit(ex, { agent: "general", prompt: "x", repo: crypt.dir });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      error: "repo_not_allowed",
      detail: expect.stringContaining("local paths and file:// URLs are allowed only under a directory"),
      issues: [
        {
          path: "repo",
          message: expect.stringContaining(`entries: https://github.com/acme/, ${upstream.dir}`),
        },
      ],
    });
    const overBus = await overNats(nc)
      .submit({ agent: "general", prompt: "x", repo: "https://github.com/acme-evil/app" })
      .catch((e: unknown) => e);
    expect(overBus).toBeInstanceOf(RemoteServiceError);
    expect(overBus).toMatchObject({ status: 403, code: "repo_not_allowed" });
    expect(world.stub.turnRequests()).toEqual([]);
  });

  it("credentials in the URL are a 400 and never echoed; a ref the repository lacks is a 400 before queueing", async () => {
    const creds = await submit(ex, {
      agent: "general",
      prompt: "x",
      repo: "https://bot:ghp_SECRETSECRET@github.com/acme/app",
    });
    expect(creds.status).toBe(400);
    expect(creds.body.error).toBe("repo_credentials_not_allowed");
    expect(JSON.stringify(creds.body)).not.toContain("SECRETSECRET");

    const missing = await submit(ex, {
      agent: "general",
      prompt: "x",
      repo: upstream.dir,
      ref: "no-such-branch",
    });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: "ref_not_found", issues: [{ path: "ref" }] });
    const listed = await fetch(`${ex.url}/jobs`, { headers: AUTH }).then(
      (res) => res.json() as Promise<Json>,
    );
    expect(listed.jobs.map((j: Json) => j.submission.ref)).not.toContain("no-such-branch");
  });
});

describe("git-crypt with a key", () => {
  it("the job's checkout is unlocked with GIT_CRYPT_KEY_FILE", async () => {
    const ex = await world.start({ GIT_CRYPT_KEY_FILE: join(keys.dir, "key") });
    try {
      world.stub.reset();
      scriptBash(world, { C: "cat secret.txt" });
      const r = await submit(ex, { agent: "general", prompt: "[tag:C] read it", repo: crypt.dir });
      const job = await waitForJob(ex, r.body.jobId);
      expect(job.status).toBe("succeeded");
      expect(toolResultOf(world, "C")).toContain(SECRET);
    } finally {
      await ex.stop();
    }
  });
});
