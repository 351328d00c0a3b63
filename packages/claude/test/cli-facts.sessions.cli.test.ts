import { existsSync } from "node:fs";
import { copyFile, mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { claudeTestEnv, messagesText, systemText, tempDir, text } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ClaudeSessionNotFoundError,
  claudeConfigDir,
  type Invocation,
  placeTranscriptLocally,
  type RunOptions,
  runClaude,
  transcriptPath,
} from "../src/index.js";

// Where the pinned CLI keeps a session, which cwd can resume it, how a transcript moves to
// another checkout or replica, and which system prompt a resumed turn runs with.
const world = useClaudeWorld({ workPrefix: "cg-facts-s-" });
let dirs: { dir: string; cleanup(): Promise<void> }[] = [];

beforeEach(() => {
  world.stub.setDefault(text("noted"));
  dirs = [];
});
afterEach(async () => {
  for (const d of dirs) await d.cleanup();
});

const newDir = async () => {
  const d = await tempDir("cg-facts-s-");
  dirs.push(d);
  return d.dir;
};
const base: Invocation = { profile: { kind: "no-tools" }, session: { kind: "new" }, output: "json" };
const run = (cwd: string, prompt: string, over: Partial<Invocation> = {}, opts: Partial<RunOptions> = {}) =>
  runClaude({
    invocation: { ...base, ...over } as Invocation,
    prompt,
    cwd,
    timeoutMs: 60_000,
    bin: world.cli.bin,
    sourceEnv: world.cli.env,
    ...opts,
  }).done;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("transcripts and --resume", () => {
  it("a turn appends to the copy under its own cwd when there is one, else to the copy it found", async () => {
    const [a, b, c] = [await newDir(), await newDir(), await newDir()];
    const first = await run(a, "remember the word PELICAN");
    const configDir = claudeConfigDir(world.cli.env);
    const inA = transcriptPath(configDir, a, first.sessionId);
    const size = async (p: string) => (await stat(p)).size;
    expect(existsSync(inA)).toBe(true);

    let before = await size(inA);
    await run(b, "which word?", { session: { kind: "resume", id: first.sessionId } });
    expect(existsSync(transcriptPath(configDir, b, first.sessionId))).toBe(false);
    expect(await size(inA)).toBeGreaterThan(before);

    // What the executor does before a resumed job: place the stored copy under the new cwd.
    expect(await placeTranscriptLocally(configDir, c, first.sessionId)).toBe(true);
    const inC = transcriptPath(configDir, c, first.sessionId);
    before = await size(inA);
    const beforeC = await size(inC);
    await run(c, "and now?", { session: { kind: "resume", id: first.sessionId } });
    expect(await size(inC)).toBeGreaterThan(beforeC);
    expect(await size(inA)).toBe(before);
  });

  // Changed since 2.1.197, where only the recording cwd could resume: a cwd is no boundary
  // between sessions of one config dir. Who may resume which session is ours to enforce.
  it("any cwd resumes any session of the same config dir (HOME)", async () => {
    const a = await newDir();
    const b = await newDir();
    const first = await run(a, "remember the word PELICAN");
    const second = await run(b, "which word?", { session: { kind: "resume", id: first.sessionId } });
    expect(second.sessionId).toBe(first.sessionId);
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("remember the word PELICAN");
  });

  it("a session of another config dir is not found until its transcript is placed", async () => {
    const cwd = await newDir();
    const other = await claudeTestEnv(world.stub.url);
    try {
      const first = await run(cwd, "remember the word IBIS", {}, { sourceEnv: other.env });
      const resume = () => run(cwd, "which word?", { session: { kind: "resume", id: first.sessionId } });
      expect(await failure(resume())).toBeInstanceOf(ClaudeSessionNotFoundError);
      const source = transcriptPath(claudeConfigDir(other.env), cwd, first.sessionId);
      const target = transcriptPath(claudeConfigDir(world.cli.env), cwd, first.sessionId);
      await mkdir(join(target, ".."), { recursive: true });
      await copyFile(source, target);
      await resume();
      expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("remember the word IBIS");
    } finally {
      await other.cleanup();
    }
  });
});

describe("the system prompt of a resumed turn", () => {
  const twoTurns = async (snapshot: boolean | undefined) => {
    const cwd = await newDir();
    const first = await run(cwd, "one", {
      appendSystemPrompt: "FIRST-INSTRUCTION",
      ...(snapshot !== undefined ? { systemPromptSnapshot: snapshot } : {}),
    });
    await run(cwd, "two", {
      session: { kind: "resume", id: first.sessionId },
      appendSystemPrompt: "SECOND-INSTRUCTION",
      ...(snapshot !== undefined ? { systemPromptSnapshot: snapshot } : {}),
    });
    return systemText(world.stub.turnRequests().at(-1)!.body);
  };

  it("is this run's (our default: --system-prompt-snapshot off)", async () => {
    const system = await twoTurns(undefined);
    expect(system).toContain("SECOND-INSTRUCTION");
    expect(system).not.toContain("FIRST-INSTRUCTION");
  });

  it("is the first run's, recorded in the transcript, with the CLI's snapshot on", async () => {
    const system = await twoTurns(true);
    expect(system).toContain("FIRST-INSTRUCTION");
    expect(system).not.toContain("SECOND-INSTRUCTION");
  });
});
