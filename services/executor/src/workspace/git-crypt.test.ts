import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceError } from "./errors.js";
import { createWorkspaceManager } from "./manager.js";

const SECRET = "hunter2: the launch codes\n";

async function rejection(promise: Promise<unknown>): Promise<WorkspaceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkspaceError);
  return error as WorkspaceError;
}

describe("git-crypt repositories", () => {
  let upstream: TempRepo;
  let keys: { dir: string; cleanup(): Promise<void> };
  let keyFile: string;
  let wrongKeyFile: string;

  beforeAll(async () => {
    upstream = await createTempRepo();
    keys = await tempDir("cg-keys-");
    keyFile = join(keys.dir, "right.key");
    wrongKeyFile = join(keys.dir, "wrong.key");
    // git-crypt commits through plain git: it needs an identity in the repository itself.
    upstream.git("config", "user.name", "Test");
    upstream.git("config", "user.email", "test@example.invalid");
    execFileSync("git-crypt", ["init"], { cwd: upstream.dir, stdio: "ignore" });
    await upstream.commit(
      {
        ".gitattributes": "secret.txt filter=git-crypt diff=git-crypt\n",
        "secret.txt": SECRET,
        "config/.gitattributes": "*.env filter=git-crypt diff=git-crypt\n",
        "config/db.env": "PASSWORD=s3cret\n",
        "plain.txt": "public\n",
      },
      "secrets",
    );
    execFileSync("git-crypt", ["export-key", keyFile], { cwd: upstream.dir });
    // A different repository's key: valid format, wrong secret.
    const other = await createTempRepo();
    execFileSync("git-crypt", ["init"], { cwd: other.dir, stdio: "ignore" });
    execFileSync("git-crypt", ["export-key", wrongKeyFile], { cwd: other.dir });
    await other.cleanup();
    // Upstream's blob really is ciphertext.
    expect(upstream.git("cat-file", "-p", "HEAD:secret.txt").startsWith("\0GITCRYPT")).toBe(true);
    expect(upstream.git("cat-file", "-p", "HEAD:config/db.env").startsWith("\0GITCRYPT")).toBe(true);
  });
  afterAll(async () => {
    await upstream.cleanup();
    await keys.cleanup();
  });

  const withRoot = async (fn: (dir: string) => Promise<void>) => {
    const root = await tempDir("cg-ws-");
    try {
      await fn(root.dir);
    } finally {
      await root.cleanup();
    }
  };

  it("unlocks the checkout with the configured key", () =>
    withRoot(async (dir) => {
      const ws = await createWorkspaceManager({ root: dir, gitCryptKeyFile: keyFile }).prepare({
        jobId: "crypt",
        repo: upstream.dir,
      });
      expect(await readFile(join(ws.dir, "secret.txt"), "utf8")).toBe(SECRET);
      expect(await readFile(join(ws.dir, "config", "db.env"), "utf8")).toBe("PASSWORD=s3cret\n");
      expect(await readFile(join(ws.dir, "plain.txt"), "utf8")).toBe("public\n");
      expect(execFileSync("git", ["status", "--porcelain"], { cwd: ws.dir, encoding: "utf8" })).toBe("");
    }));

  it("fails with git_crypt_key_missing when no key is configured", () =>
    withRoot(async (dir) => {
      const error = await rejection(
        createWorkspaceManager({ root: dir }).prepare({ jobId: "nokey", repo: upstream.dir }),
      );
      expect(error.reason).toBe("git_crypt_key_missing");
      expect(error.message).toMatch(/git-crypt/);
      expect(error.retryable).toBe(false);
      expect(await readdir(join(dir, "jobs"))).toEqual([]);
    }));

  it("notices git-crypt declared only in a nested .gitattributes", () =>
    withRoot(async (dir) => {
      const nested = await createTempRepo();
      try {
        nested.git("config", "user.name", "Test");
        nested.git("config", "user.email", "test@example.invalid");
        execFileSync("git-crypt", ["init"], { cwd: nested.dir, stdio: "ignore" });
        await nested.commit({
          "deploy/.gitattributes": "*.key filter=git-crypt diff=git-crypt\n",
          "deploy/tls.key": "k\n",
        });
        const error = await rejection(
          createWorkspaceManager({ root: dir }).prepare({ jobId: "nested", repo: nested.dir }),
        );
        expect(error.reason).toBe("git_crypt_key_missing");
      } finally {
        await nested.cleanup();
      }
    }));

  it("fails with git_crypt_unlock_failed and git-crypt's stderr for a wrong key", () =>
    withRoot(async (dir) => {
      const error = await rejection(
        createWorkspaceManager({ root: dir, gitCryptKeyFile: wrongKeyFile }).prepare({
          jobId: "wrongkey",
          repo: upstream.dir,
        }),
      );
      expect(error.reason).toBe("git_crypt_unlock_failed");
      expect(error.stderrTail).toMatch(/tampered|failed/i);
      expect(await readdir(join(dir, "jobs"))).toEqual([]);
    }));

  it("does not need a key for a repository without git-crypt", () =>
    withRoot(async (dir) => {
      const plain = await createTempRepo({ ".gitattributes": "* text=auto\n", "a.txt": "a\n" });
      try {
        const ws = await createWorkspaceManager({ root: dir }).prepare({ jobId: "plain", repo: plain.dir });
        expect(await readFile(join(ws.dir, "a.txt"), "utf8")).toBe("a\n");
      } finally {
        await plain.cleanup();
      }
    }));
});
