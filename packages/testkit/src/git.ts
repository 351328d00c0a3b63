import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface TempRepo {
  dir: string;
  /** Runs git in the repo and returns trimmed stdout. */
  git(...args: string[]): string;
  /** Writes files (path → content) and commits them; returns the new commit's sha. */
  commit(files: Record<string, string>, message?: string): Promise<string>;
  cleanup(): Promise<void>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** A real git repository in a temp dir, on branch `main`, with an optional first commit. */
export async function createTempRepo(initial?: Record<string, string>): Promise<TempRepo> {
  const dir = await mkdtemp(join(tmpdir(), "cg-repo-"));
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, ...GIT_ENV } }).trim();
  git("init", "-q", "-b", "main");
  const commit = async (files: Record<string, string>, message = "commit") => {
    for (const [path, content] of Object.entries(files)) {
      const full = join(dir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
    git("add", "-A");
    git("commit", "-q", "-m", message);
    return git("rev-parse", "HEAD");
  };
  if (initial) await commit(initial, "initial");
  return { dir, git, commit, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function tempDir(prefix = "cg-"): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
