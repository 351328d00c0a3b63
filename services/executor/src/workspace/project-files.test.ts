import { mkdir, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createTempRepo, type TempRepo, tempDir } from "@claude-gateway/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkspaceError } from "./errors.js";
import { createWorkspaceManager, MAX_PROJECT_FILE_BYTES, type WorkspaceLogger } from "./manager.js";

// `.gitattributes` and `CLAUDE.md` are read from the object database at the checked-out commit:
// never through a symlink, never more than MAX_PROJECT_FILE_BYTES.
describe("files the workspace reads from a repository", () => {
  let upstream: TempRepo;
  let root: string;
  let cleanupRoot: () => Promise<void>;
  let warnings: { obj: Record<string, unknown>; msg: string }[];
  const logger: WorkspaceLogger = {
    info: () => {},
    warn: ((obj: Record<string, unknown>, msg: string) => void warnings.push({ obj, msg })) as never,
  };

  beforeEach(async () => {
    upstream = await createTempRepo();
    ({ dir: root, cleanup: cleanupRoot } = await tempDir("cg-ws-files-"));
    warnings = [];
  });
  afterEach(async () => {
    await upstream.cleanup();
    await cleanupRoot();
  });

  /** Commits a symlink `path` → `target` (beside whatever `files` holds). */
  async function commitWithLink(path: string, target: string, files: Record<string, string> = {}) {
    await mkdir(dirname(join(upstream.dir, path)), { recursive: true });
    await symlink(target, join(upstream.dir, path));
    return upstream.commit(files, `link ${path}`);
  }

  // Every prepare fetches first: each test commits between them.
  const prepare = (jobId: string) =>
    createWorkspaceManager({ root, logger, refreshIntervalMs: 0 }).prepare({ jobId, repo: upstream.dir });

  it("puts the top-level CLAUDE.md on the workspace, as text", async () => {
    await upstream.commit({
      "CLAUDE.md": "# Project rules\nОтговаряй кратко ✓\n",
      "docs/CLAUDE.md": "not this one\n",
    });
    const ws = await prepare("instructions");
    expect(ws.projectInstructions).toBe("# Project rules\nОтговаряй кратко ✓");
  });

  it("has none without a CLAUDE.md, or with only a nested one", async () => {
    await upstream.commit({ "README.md": "hi\n", "sub/CLAUDE.md": "nested\n" });
    expect((await prepare("none")).projectInstructions).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it("ignores a symlinked CLAUDE.md, wherever it points", async () => {
    await commitWithLink("CLAUDE.md", "README.md", { "README.md": "I am the readme\n" });
    const ws = await prepare("linked");
    expect(ws.projectInstructions).toBeUndefined();
    expect(warnings).toContainEqual({
      obj: expect.objectContaining({ path: "CLAUDE.md", why: "a symlink" }),
      msg: "repository file ignored",
    });
  });

  it("ignores a CLAUDE.md over the cap, and a binary one", async () => {
    await upstream.commit({ "CLAUDE.md": "x".repeat(MAX_PROJECT_FILE_BYTES + 1) });
    expect((await prepare("big")).projectInstructions).toBeUndefined();
    await upstream.commit({ "CLAUDE.md": "\0GITCRYPT\0ciphertext" });
    expect((await prepare("binary")).projectInstructions).toBeUndefined();
    await upstream.commit({ "CLAUDE.md": "y".repeat(MAX_PROJECT_FILE_BYTES) });
    expect((await prepare("at-cap")).projectInstructions).toHaveLength(MAX_PROJECT_FILE_BYTES);
  });

  it("treats a .gitattributes symlinked to /dev/zero as absent instead of reading forever", async () => {
    await commitWithLink(".gitattributes", "/dev/zero", { "CLAUDE.md": "still read\n" });
    await commitWithLink("sub/.gitattributes", "/dev/urandom", { "sub/file.txt": "x\n" });
    const ws = await prepare("zero");
    expect(ws.commit).toBeDefined();
    expect(ws.projectInstructions).toBe("still read");
    expect(warnings.map((w) => [w.obj.path, w.obj.why])).toEqual(
      expect.arrayContaining([
        [".gitattributes", "a symlink"],
        ["sub/.gitattributes", "a symlink"],
      ]),
    );
  });

  it("reads git-crypt from .gitattributes at the commit, not through a link nor past the cap", async () => {
    // A link to a file that declares git-crypt does not count: only the link is in the commit.
    await commitWithLink(".gitattributes", "attrs.txt", { "attrs.txt": "secret filter=git-crypt\n" });
    expect((await prepare("via-link")).commit).toBeDefined();

    // Over the cap: absent (its last line would have said git-crypt).
    await upstream.git("rm", "-q", ".gitattributes");
    await upstream.commit({
      "big/.gitattributes": `${"# padding\n".repeat(MAX_PROJECT_FILE_BYTES / 10)}secret filter=git-crypt\n`,
    });
    expect((await prepare("too-big")).commit).toBeDefined();
    expect(warnings).toContainEqual({
      obj: expect.objectContaining({
        path: "big/.gitattributes",
        why: expect.stringMatching(/^larger than/),
      }),
      msg: "repository file ignored",
    });

    // A regular, small one at any depth is read.
    await upstream.commit({ "deep/er/.gitattributes": "secret filter=git-crypt diff=git-crypt\n" });
    const error = await prepare("declared").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkspaceError);
    expect((error as WorkspaceError).reason).toBe("git_crypt_key_missing");
  });

  it("reads a path that looks like pathspec magic as a name", async () => {
    await upstream.commit({ ":(glob)odd/.gitattributes": "x filter=git-crypt\n" });
    const error = await prepare("magic").catch((e: unknown) => e);
    expect((error as WorkspaceError).reason).toBe("git_crypt_key_missing");
  });
});
