import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  claudeConfigDir,
  findTranscript,
  placeTranscriptLocally,
  projectDirName,
  transcriptPath,
} from "./sessions.js";

describe("session paths", () => {
  it("mangle the cwd like the CLI", () => {
    expect(projectDirName("/tmp/cg-work_1/job.x")).toBe("-tmp-cg-work-1-job-x");
    expect(transcriptPath("/h/.claude", "/w/a", "id")).toBe("/h/.claude/projects/-w-a/id.jsonl");
  });
  it("honour CLAUDE_CONFIG_DIR, else HOME/.claude", () => {
    expect(claudeConfigDir({ HOME: "/h", CLAUDE_CONFIG_DIR: "/c" })).toBe("/c");
    expect(claudeConfigDir({ HOME: "/h" })).toBe("/h/.claude");
    expect(() => claudeConfigDir({})).toThrow(/HOME/);
  });
});

describe("transcripts on disk", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cg-sessions-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("finds a transcript under any project and places a copy under a new cwd", async () => {
    const original = transcriptPath(dir, "/old/cwd", "s1");
    await mkdir(join(original, ".."), { recursive: true });
    await writeFile(original, '{"turn":1}\n');
    expect(await findTranscript(dir, "s1")).toBe(original);
    expect(await findTranscript(dir, "s2")).toBeUndefined();
    expect(await placeTranscriptLocally(dir, "/new/cwd", "s1")).toBe(true);
    expect(await readFile(transcriptPath(dir, "/new/cwd", "s1"), "utf8")).toBe('{"turn":1}\n');
    expect(await placeTranscriptLocally(dir, "/new/cwd", "missing")).toBe(false);
  });
});
