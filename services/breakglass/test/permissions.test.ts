import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentSpec, agentInvocation, loadAgents } from "@claude-gateway/agents";
import { buildArgv, type RunResult } from "@claude-gateway/claude";
import {
  type ClaudeTestEnv,
  claudeTestEnv,
  type MessagesStub,
  processesWithEnv,
  type StubBlock,
  startMessagesStub,
  tempDir,
  text,
} from "@claude-gateway/testkit";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeTurns } from "../src/adapters/claude-turns.js";
import { classifyToolCall, DEFAULT_READONLY_COMMANDS } from "../src/core/command-gate.js";
import { type SshSetup, setupSsh } from "../src/ssh-setup.js";

/**
 * The breakglass agent's permissions, proven on the real CLI: no allow rules and
 * `--permission-mode default` (from agents/breakglass.md) with `--permission-prompt-tool stdio`
 * (the adapter) bring every call to the service's gate (`classifyToolCall`), which lets the two
 * aliases through (here the operator says yes to everything asked) and refuses everything else.
 * `ssh` is the service's wrapper in front of a fake client that records its argv, so "let
 * through" is observable without a host.
 */

const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
let stub: MessagesStub;
let cli: ClaudeTestEnv;
let ssh: SshSetup;
let agent: AgentSpec;
let sshLog: string;
let keyFile: string;

beforeAll(async () => {
  dir = await tempDir("bg-perms-");
  stub = await startMessagesStub();
  cli = await claudeTestEnv(stub.url);
  agent = (await loadAgents(AGENTS_DIR)).get("breakglass");
  sshLog = join(dir.dir, "ssh-argv.log");
  const fakeSsh = join(dir.dir, "fake-ssh");
  await writeFile(
    fakeSsh,
    `#!/bin/sh\nprintf '%s\\0' "$@" >> '${sshLog}'\nprintf '\\n' >> '${sshLog}'\necho "fake-ssh: ok"\n`,
  );
  await chmod(fakeSsh, 0o755);
  keyFile = join(dir.dir, "id_ed25519");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "perm-test", "-f", keyFile]);
  const knownHosts = join(dir.dir, "known_hosts");
  await writeFile(knownHosts, "");
  const host = { hostName: "127.0.0.1", user: "root", port: 22 };
  ssh = await setupSsh({
    hosts: { devvm: host, pve: host },
    keyFile,
    knownHostsFile: knownHosts,
    sshBin: fakeSsh,
  });
  if (!ssh.configPath) throw new Error(ssh.problems.join("; "));
});

afterAll(async () => {
  await ssh?.stop();
  await stub?.close();
  await cli?.cleanup();
  await dir?.cleanup();
});

async function recordedArgv(): Promise<string[][]> {
  const raw = await readFile(sshLog, "utf8").catch(() => "");
  return raw
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\0").slice(0, -1));
}

/** One CLI turn in which the model asks for all `calls` at once, then says "done". */
async function runTurn(calls: StubBlock[]): Promise<RunResult> {
  const workDir = join(dir.dir, "work");
  await mkdir(workDir, { recursive: true });
  stub.reset();
  stub.enqueue({ kind: "message", blocks: calls, stopReason: "tool_use" }, text("done"));
  const turns = claudeTurns({
    agent,
    model: "claude-sonnet-4-6",
    cwd: workDir,
    timeoutMs: 120_000,
    maxBudgetUsd: 5,
    sourceEnv: cli.env,
    setEnv: { ...ssh.childEnv, PATH: `${ssh.binDir}:${cli.env.PATH}` },
    bin: cli.bin,
  });
  return turns.run({
    sessionId: crypto.randomUUID(),
    resume: false,
    prompt: "Check the VM.",
    signal: new AbortController().signal,
    onLine: () => {},
    canUseTool: async ({ toolName, input }) => {
      const v = classifyToolCall(toolName, input, DEFAULT_READONLY_COMMANDS);
      if (v.kind === "refused") return { behavior: "deny", message: `Refused: ${v.reason}` };
      if (v.kind === "ask") asked.push((input as { command: string }).command);
      return { behavior: "allow" };
    },
  });
}
let asked: string[] = [];

const bash = (command: string): StubBlock => ({
  type: "tool_use",
  name: "Bash",
  input: { command, description: "x" },
});

describe("the breakglass agent's permissions on the real CLI", () => {
  it("are no allow rules (none from settings files either) and the default mode (the service decides every call), never the skip flag", () => {
    const { args } = buildArgv(agentInvocation(agent, { session: { kind: "new" }, output: "stream-json" }));
    expect(args).not.toContain("--allowedTools");
    expect(args[args.indexOf("--permission-mode") + 1]).toBe("default");
    expect(args[args.indexOf("--tools") + 1]).toBe("Bash,Read,Grep,Glob");
    expect(args).not.toContain("--dangerously-skip-permissions");
    // No allow rule, hook or MCP server from the CLI's HOME or its cwd either.
    expect(args[args.indexOf("--setting-sources") + 1]).toBe("");
    expect(args).toContain("--strict-mcp-config");
  });

  it("let `ssh devvm …` and `ssh pve …` through, through the wrapper; refuse everything else, with no side effect", async () => {
    asked = [];
    const m = (name: string) => join(dir.dir, `marker-${name}`);
    const victim = join(dir.dir, "victim");
    await mkdir(victim);
    const allowed = [
      "ssh devvm uptime",
      "ssh pve status",
      "ssh devvm 'df -h; free -m'",
      `ssh devvm -o ProxyCommand='touch ${m("proxy")}' uptime`,
    ];
    const denied = [
      `rm -rf ${victim}`,
      `curl -s -o ${m("curl")} ${stub.url}/`,
      `ssh devvm uptime && touch ${m("and")}`,
      `ssh devvm uptime; touch ${m("semicolon")}`,
      `ssh devvm $(touch ${m("subst")})`,
      `ssh devvm uptime > ${m("redirect")}`,
      `ssh otherhost uptime`,
      `/usr/bin/ssh devvm uptime`,
      `scp ${keyFile} devvm:/tmp/`,
      `cat ${keyFile}`,
      `bash -c 'touch ${m("bash")}'`,
    ];
    const result = await runTurn([
      ...[...allowed, ...denied].map(bash),
      { type: "tool_use", name: "Read", input: { file_path: keyFile } },
    ]);

    const deniedInputs = result.result.permission_denials.map((d) =>
      d.tool_name === "Bash"
        ? (d.tool_input as { command: string }).command
        : `${d.tool_name}:${(d.tool_input as { file_path: string }).file_path}`,
    );
    expect(deniedInputs.sort()).toEqual([...denied, `Read:${keyFile}`].sort());
    for (const name of ["proxy", "curl", "and", "semicolon", "subst", "redirect", "bash"]) {
      expect(existsSync(m(name)), name).toBe(false);
    }
    expect(existsSync(victim)).toBe(true);

    // Exactly the allowed commands ran, each through the wrapper: pinned config, `--` before the alias.
    const pinned = ["-F", ssh.configPath!, "-o", "BatchMode=yes", "-n", "--"];
    const argv = await recordedArgv();
    expect(argv.map((a) => a.slice(pinned.length)).sort()).toEqual(
      [
        ["devvm", "uptime"],
        ["pve", "status"],
        ["devvm", "df -h; free -m"],
        ["devvm", "-o", `ProxyCommand=touch ${m("proxy")}`, "uptime"],
      ].sort(),
    );
    for (const a of argv) expect(a.slice(0, pinned.length)).toEqual(pinned);

    // The model saw the allowed output and the denials.
    const sent = JSON.stringify(stub.turnRequests()[1]?.body.messages?.at(-1));
    expect(sent.match(/fake-ssh: ok/g)?.length).toBe(allowed.length);
    expect(sent).toContain("Refused: only one `ssh devvm <command>`");
    // Only the read-only ones ran without the operator.
    expect(asked.sort()).toEqual([allowed[2], allowed[3]].sort());
    expect(sent).not.toContain("PRIVATE KEY");

    // The API request offered only the agent's tools (no web, no editing).
    const offered = (stub.turnRequests()[0]?.body.tools ?? []).map((t) => t.name).sort();
    expect(offered).toEqual(["Bash", "Glob", "Grep", "Read"]);
    expect(await processesWithEnv({ HOME: cli.home })).toEqual([]);
  });
});
