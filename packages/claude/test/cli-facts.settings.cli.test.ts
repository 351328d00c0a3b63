import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  type MessagesStub,
  messagesText,
  offeredToolNames,
  startMessagesStub,
  systemText,
  tempDir,
  text,
  toolUse,
  writePlantedMcpServer,
} from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildArgv, buildChildEnv, type Invocation } from "../src/index.js";
import { canOverlayEtc, inManagedEtc } from "./support/managed-etc.js";
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

/**
 * The argv builder always emits `--setting-sources ""` and `--strict-mcp-config`; the facts below
 * measure the CLI with and without them, so they start from its argv without them.
 */
function withoutIsolation(args: readonly string[]): string[] {
  const out = [...args];
  const i = out.indexOf("--setting-sources");
  expect(out[i + 1]).toBe("");
  out.splice(i, 2);
  out.splice(out.indexOf("--strict-mcp-config"), 1);
  return out;
}

const hooks = (marker: string) => ({
  hooks: {
    SessionStart: [{ hooks: [{ type: "command", command: `touch ${marker}` }] }],
    UserPromptSubmit: [{ hooks: [{ type: "command", command: `touch ${marker}.prompt` }] }],
  },
});

/**
 * One no-tools run in a "checkout" that plants every kind of settings and memory file: the CLI with
 * `extraArgs` instead of the builder's isolation flags, or (`null`) with the builder's argv as is.
 */
async function runWith(extraArgs: readonly string[] | null): Promise<Seen> {
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
    const out = await runRaw(cli.bin, extraArgs ? [...withoutIsolation(args), ...extraArgs] : args, {
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
  it.each<[string, string[] | null, Partial<Seen>]>([
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
    ["the argv builder's own argv: nothing at all", null, {}],
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
      const out = await runRaw(cli.bin, args, {
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

interface McpSeen {
  /** The server the checkout's `.mcp.json` declares was started. */
  projectServer: boolean;
  /** The server HOME's `.claude.json` declares (user scope, `claude mcp add -s user`) was started. */
  userServer: boolean;
  /** The `mcp__…` tools the API request offered. */
  mcpTools: string[];
}

/** One no-tools run in a checkout with a `.mcp.json` and a HOME with `.claude.json` MCP servers. */
async function runMcp(extraArgs: readonly string[] | null): Promise<McpSeen> {
  const cli = await claudeTestEnv(stub.url);
  const checkout = await tempDir("cg-facts-checkout-");
  const markers = await tempDir("cg-facts-markers-");
  try {
    const m = (name: string) => join(markers.dir, name);
    const server = join(markers.dir, "planted-mcp.cjs");
    await writePlantedMcpServer(server);
    // No approval anywhere: -p mode has no trust dialog.
    const declare = (name: string, marker: string) => ({
      mcpServers: { [name]: { type: "stdio", command: process.execPath, args: [server, marker] } },
    });
    await writeFile(join(checkout.dir, ".mcp.json"), JSON.stringify(declare("repo", m("project"))));
    await writeFile(join(cli.home, ".claude.json"), JSON.stringify(declare("home", m("user"))));

    stub.reset();
    stub.setDefault(text("ok"));
    const inv: Invocation = { profile: { kind: "no-tools" }, session: { kind: "ephemeral" }, output: "json" };
    const { args } = buildArgv(inv, { bin: cli.bin });
    const out = await runRaw(cli.bin, extraArgs ? [...withoutIsolation(args), ...extraArgs] : args, {
      cwd: checkout.dir,
      env: buildChildEnv(cli.env, { runId: "facts" }),
      input: "hello",
    });
    expect(out.code, out.stderr).toBe(0);
    const offered = stub.turnRequests().flatMap((r) => offeredToolNames(r.body));
    return {
      projectServer: existsSync(m("project")),
      userServer: existsSync(m("user")),
      mcpTools: [...new Set(offered.filter((t) => t.startsWith("mcp__")))].sort(),
    };
  } finally {
    await cli.cleanup();
    await checkout.cleanup();
    await markers.cleanup();
  }
}

describe("MCP servers from the checkout and HOME", () => {
  const both: McpSeen = {
    projectServer: true,
    userServer: true,
    mcpTools: ["mcp__home__planted_tool", "mcp__repo__planted_tool"],
  };
  const none: McpSeen = { projectServer: false, userServer: false, mcpTools: [] };
  it.each<[string, string[] | null, McpSeen]>([
    // `--tools ""` does not remove MCP tools, and nothing asks before starting a checkout's server.
    ['(flags absent): both started, their tools offered despite --tools ""', [], both],
    ["--strict-mcp-config (no --mcp-config): none", ["--strict-mcp-config"], none],
    ['--setting-sources "": none', ["--setting-sources", ""], none],
    ["the argv builder's own argv: none", null, none],
  ])("%s", async (_name, args, expected) => {
    expect(await runMcp(args)).toEqual(expected);
  });
});

describe("an inline agent definition's own hooks and MCP servers", () => {
  it('run despite --setting-sources "" and --strict-mcp-config, so the argv builder refuses such definitions', async () => {
    const cli = await claudeTestEnv(stub.url);
    const cwd = await tempDir("cg-facts-cwd-");
    try {
      const m = (name: string) => join(cwd.dir, name);
      const server = m("planted-mcp.cjs");
      await writePlantedMcpServer(server);
      const definition = {
        description: "A",
        prompt: "You are a.",
        tools: ["Bash"],
        mcpServers: [{ agentmcp: { type: "stdio", command: process.execPath, args: [server, m("mcp")] } }],
        hooks: {
          SessionStart: [{ hooks: [{ type: "command", command: `touch ${m("start")}` }] }],
          PreToolUse: [{ matcher: "*", hooks: [{ type: "command", command: `touch ${m("pretool")}` }] }],
        },
      };
      const inv = {
        profile: { kind: "tools" },
        session: { kind: "ephemeral" },
        output: "json",
        tools: ["Bash"],
        agent: { name: "a", definition: { name: "a", ...definition } },
      } as unknown as Invocation;
      expect(() => buildArgv(inv, { bin: cli.bin })).toThrow(/not mcpServers, hooks/);

      // The same definition passed by hand, beside the builder's isolation flags.
      stub.reset();
      stub.enqueue(toolUse("Bash", { command: "true", description: "x" }), text("ok"));
      const { args } = buildArgv({ ...inv, agent: { name: "a" } } as Invocation, { bin: cli.bin });
      const out = await runRaw(cli.bin, [...args, "--agents", JSON.stringify({ a: definition })], {
        cwd: cwd.dir,
        env: buildChildEnv(cli.env, { runId: "facts" }),
        input: "hello",
      });
      expect(out.code, out.stderr).toBe(0);
      expect(args).toContain("--strict-mcp-config");
      expect([existsSync(m("start")), existsSync(m("pretool")), existsSync(m("mcp"))]).toEqual([
        true,
        true,
        true,
      ]);
    } finally {
      await cli.cleanup();
      await cwd.cleanup();
    }
  });
});

describe("permission rules from settings files", () => {
  /**
   * Whether a Bash command that only an allow rule in `where`'s settings.json lets through ran,
   * in default mode.
   */
  async function bashRan(where: "checkout" | "home", extraArgs: readonly string[] | null): Promise<boolean> {
    const cli = await claudeTestEnv(stub.url);
    const checkout = await tempDir("cg-facts-checkout-");
    try {
      const marker = join(checkout.dir, "ran");
      const dir = join(where === "checkout" ? checkout.dir : cli.home, ".claude");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "settings.json"), JSON.stringify({ permissions: { allow: ["Bash"] } }));
      stub.reset();
      // Not `touch`: the CLI asks before a shell command it sees writing a file, whatever the rules.
      const command = `node -e 'require("node:fs").writeFileSync(process.argv[1], "")' ${marker}`;
      stub.enqueue(toolUse("Bash", { command, description: "x" }), text("ok"));
      const inv: Invocation = {
        profile: { kind: "tools" },
        session: { kind: "ephemeral" },
        output: "json",
        tools: ["Bash"],
        permissionMode: "default",
      };
      const { args } = buildArgv(inv, { bin: cli.bin });
      const out = await runRaw(cli.bin, extraArgs ? [...withoutIsolation(args), ...extraArgs] : args, {
        cwd: checkout.dir,
        env: buildChildEnv(cli.env, { runId: "facts" }),
        input: "hello",
      });
      expect(out.code, out.stderr).toBe(0);
      return existsSync(marker);
    } finally {
      await cli.cleanup();
      await checkout.cleanup();
    }
  }

  it("HOME's allow rules apply without the flags (a checkout's do not: no trust in -p mode); with the argv builder's, neither", async () => {
    expect(await bashRan("home", [])).toBe(true);
    expect(await bashRan("checkout", [])).toBe(false);
    expect(await bashRan("home", null)).toBe(false);
  });
});

describe.skipIf(!canOverlayEtc())(
  "the deployer's managed settings (/etc/claude-code/managed-settings.json)",
  () => {
    it("still apply with the argv builder's flags: their hooks run, their deny rules hold even over --dangerously-skip-permissions", async () => {
      const cli = await claudeTestEnv(stub.url);
      const dir = await tempDir("cg-facts-etc-");
      try {
        const m = (name: string) => join(dir.dir, name);
        await mkdir(m("upper/claude-code"), { recursive: true });
        await mkdir(m("work"));
        await writeFile(
          m("upper/claude-code/managed-settings.json"),
          JSON.stringify({
            hooks: {
              SessionStart: [{ hooks: [{ type: "command", command: `touch ${m("managed-hook")}` }] }],
            },
            permissions: { deny: ["Bash"] },
          }),
        );
        stub.reset();
        const command = `node -e 'require("node:fs").writeFileSync(process.argv[1], "")' ${m("bash-ran")}`;
        stub.enqueue(toolUse("Bash", { command, description: "x" }), text("ok"));
        const inv: Invocation = {
          profile: { kind: "tools", dangerouslySkipPermissions: true },
          session: { kind: "ephemeral" },
          output: "json",
          tools: ["Bash"],
        };
        const { args } = buildArgv(inv, { bin: cli.bin });
        const run = inManagedEtc(m("upper"), m("work"), cli.bin, args);
        const out = await runRaw(run.file, run.args, {
          cwd: dir.dir,
          // The CLI refuses the skip flag as root outside a sandbox.
          env: buildChildEnv({ ...cli.env, IS_SANDBOX: "1" }, { runId: "facts" }),
          input: "hello",
        });
        expect(out.code, out.stderr).toBe(0);
        expect(existsSync(m("managed-hook"))).toBe(true);
        expect(existsSync(m("bash-ran"))).toBe(false);
        expect(JSON.stringify(stub.turnRequests().at(-1)?.body.messages?.at(-1)?.content)).toContain(
          "No such tool available: Bash",
        );
      } finally {
        await cli.cleanup();
        await dir.cleanup();
      }
    });
  },
);
