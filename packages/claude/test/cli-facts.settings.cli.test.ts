import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  type MessagesStub,
  messagesText,
  startMessagesStub,
  systemText,
  tempDir,
  text,
} from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArgv, buildChildEnv, type Invocation } from "../src/index.js";
import { runRaw } from "./support/raw-run.js";

// Which settings a `claude -p` run loads, per --setting-sources, measured by hooks that leave a
// file behind and by memory files whose text reaches (or does not reach) the API. The agent
// isolation work depends on this: a cloned repository must not run code or steer the agent
// through its `.claude/` or CLAUDE.md.
let stub: MessagesStub;
beforeAll(async () => {
  stub = await startMessagesStub();
  stub.setDefault(text("ok"));
});
afterAll(async () => {
  await stub.close();
});

interface Seen {
  projectHook: boolean;
  projectPromptHook: boolean;
  localHook: boolean;
  userHook: boolean;
  projectMemory: boolean;
  userMemory: boolean;
}

const hooks = (marker: string) => ({
  hooks: {
    SessionStart: [{ hooks: [{ type: "command", command: `touch ${marker}` }] }],
    UserPromptSubmit: [{ hooks: [{ type: "command", command: `touch ${marker}.prompt` }] }],
  },
});

/** One no-tools run in a "checkout" that plants every kind of settings and memory file. */
async function runWith(extraArgs: readonly string[]): Promise<Seen> {
  const cli: ClaudeTestEnv = await claudeTestEnv(stub.url);
  const checkout = await tempDir("cg-facts-checkout-");
  const markers = await tempDir("cg-facts-markers-");
  try {
    const m = (name: string) => join(markers.dir, name);
    await mkdir(join(checkout.dir, ".claude"), { recursive: true });
    await mkdir(join(cli.home, ".claude"), { recursive: true });
    await writeFile(join(checkout.dir, ".claude", "settings.json"), JSON.stringify(hooks(m("project"))));
    await writeFile(join(checkout.dir, ".claude", "settings.local.json"), JSON.stringify(hooks(m("local"))));
    await writeFile(join(cli.home, ".claude", "settings.json"), JSON.stringify(hooks(m("user"))));
    await writeFile(join(checkout.dir, "CLAUDE.md"), "PROJECT-MEMORY-7f3a");
    await writeFile(join(cli.home, ".claude", "CLAUDE.md"), "USER-MEMORY-91c2");

    stub.reset();
    stub.setDefault(text("ok"));
    const inv: Invocation = { profile: { kind: "no-tools" }, session: { kind: "ephemeral" }, output: "json" };
    const { args } = buildArgv(inv, { bin: cli.bin });
    const out = await runRaw(cli.bin, [...args, ...extraArgs], {
      cwd: checkout.dir,
      env: buildChildEnv(cli.env, { runId: "facts" }),
      input: "hello",
    });
    expect(out.code, out.stderr).toBe(0);
    const req = stub.turnRequests()[0]!;
    const sent = systemText(req.body) + messagesText(req.body);
    return {
      projectHook: existsSync(m("project")),
      projectPromptHook: existsSync(m("project.prompt")),
      localHook: existsSync(m("local")),
      userHook: existsSync(m("user")),
      projectMemory: sent.includes("PROJECT-MEMORY-7f3a"),
      userMemory: sent.includes("USER-MEMORY-91c2"),
    };
  } finally {
    await cli.cleanup();
    await checkout.cleanup();
    await markers.cleanup();
  }
}

const none: Seen = {
  projectHook: false,
  projectPromptHook: false,
  localHook: false,
  userHook: false,
  projectMemory: false,
  userMemory: false,
};

describe("--setting-sources decides which hooks run and which CLAUDE.md is sent, even with no tools", () => {
  it.each<[string, string[], Partial<Seen>]>([
    [
      "(flag absent): everything, the checkout's hooks included",
      [],
      {
        projectHook: true,
        projectPromptHook: true,
        localHook: true,
        userHook: true,
        projectMemory: true,
        userMemory: true,
      },
    ],
    [
      "user: HOME's hooks and memory only",
      ["--setting-sources", "user"],
      { userHook: true, userMemory: true },
    ],
    [
      "project: the checkout's settings.json hooks and CLAUDE.md",
      ["--setting-sources", "project"],
      { projectHook: true, projectPromptHook: true, projectMemory: true },
    ],
    // `.claude/settings.local.json` lives in the checkout too: "local" is not a safe choice.
    ["local: the checkout's settings.local.json hooks", ["--setting-sources", "local"], { localHook: true }],
    ['"" (empty): nothing at all', ["--setting-sources", ""], {}],
    ["--bare: nothing at all", ["--bare"], {}],
  ])("%s", async (_name, args, expected) => {
    expect(await runWith(args)).toEqual({ ...none, ...expected });
  });

  it('with --setting-sources "", an appended system prompt still reaches the API (how to pass instructions ourselves)', async () => {
    const cli = await claudeTestEnv(stub.url);
    const cwd = await tempDir("cg-facts-cwd-");
    try {
      stub.reset();
      stub.setDefault(text("ok"));
      const inv: Invocation = {
        profile: { kind: "no-tools" },
        session: { kind: "ephemeral" },
        output: "json",
        appendSystemPrompt: "REPO-INSTRUCTIONS-55d1",
      };
      const { args } = buildArgv(inv, { bin: cli.bin });
      const out = await runRaw(cli.bin, [...args, "--setting-sources", ""], {
        cwd: cwd.dir,
        env: buildChildEnv(cli.env, { runId: "facts" }),
        input: "hello",
      });
      expect(out.code, out.stderr).toBe(0);
      expect(systemText(stub.turnRequests()[0]!.body)).toContain("REPO-INSTRUCTIONS-55d1");
    } finally {
      await cli.cleanup();
      await cwd.cleanup();
    }
  });
});
