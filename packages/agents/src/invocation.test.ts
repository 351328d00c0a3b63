import { buildArgv } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { agentInvocation } from "./invocation.js";
import { parseAgentFile } from "./parse.js";

const agent = (front: string, prompt = "You are a test agent.") =>
  parseAgentFile("agents/a.md", `---\nname: a\ndescription: An agent.\n${front}\n---\n${prompt}\n`);
const run = { session: { kind: "ephemeral" }, output: "json" } as const;
/** How an invocation carries the agent `agent()` parses: inline, with these extra fields. */
const inline = (extra: Record<string, unknown>) => ({
  name: "a",
  definition: { name: "a", description: "An agent.", prompt: "You are a test agent.", ...extra },
});

describe("agentInvocation", () => {
  it("no-tools: the no-tools profile, no tools, the agent inline", () => {
    const spec = agent("tools: []\nmodel: claude-haiku-4-5\npermissions:\n  profile: no-tools\n  mode: plan");
    expect(agentInvocation(spec, run)).toEqual({
      session: { kind: "ephemeral" },
      output: "json",
      model: "claude-haiku-4-5",
      agent: inline({ tools: [], model: "claude-haiku-4-5" }),
      profile: { kind: "no-tools" },
      tools: [],
      permissionMode: "plan",
    });
  });

  it("tools: tools, allow, deny and mode map onto the CLI's flags", () => {
    const spec = agent(
      'tools: Bash, Read\npermissions:\n  profile: tools\n  mode: dontAsk\n  allow: ["Bash(git:*)"]\n  deny: [WebFetch]',
    );
    const inv = agentInvocation(spec, run);
    expect(inv).toEqual({
      session: { kind: "ephemeral" },
      output: "json",
      agent: inline({ tools: ["Bash", "Read"] }),
      profile: { kind: "tools", dangerouslySkipPermissions: false },
      tools: ["Bash", "Read"],
      allowedTools: ["Bash(git:*)"],
      disallowedTools: ["WebFetch"],
      permissionMode: "dontAsk",
    });
    const { args } = buildArgv(inv);
    expect(args).toEqual([
      "-p",
      "--setting-sources",
      "",
      "--strict-mcp-config",
      "--no-session-persistence",
      "--output-format",
      "json",
      "--agents",
      JSON.stringify({
        a: { description: "An agent.", prompt: "You are a test agent.", tools: ["Bash", "Read"] },
      }),
      "--agent",
      "a",
      "--system-prompt-snapshot",
      "off",
      "--tools",
      "Bash,Read",
      "--allowedTools",
      "Bash(git:*)",
      "--disallowedTools",
      "WebFetch",
      "--permission-mode",
      "dontAsk",
    ]);
  });

  it("skipPermissions becomes the profile's named opt-in", () => {
    const inv = agentInvocation(
      agent("tools: [Bash]\npermissions:\n  profile: tools\n  skipPermissions: true"),
      run,
    );
    expect(inv.profile).toEqual({ kind: "tools", dangerouslySkipPermissions: true });
    expect(buildArgv(inv).args).toContain("--dangerously-skip-permissions");
  });

  it("tools absent: no --tools, so the CLI keeps its default set", () => {
    const inv = agentInvocation(agent("permissions:\n  profile: tools"), run);
    expect(inv.tools).toBeUndefined();
    expect(inv.agent?.definition?.tools).toBeUndefined();
    expect(buildArgv(inv).args).not.toContain("--tools");
  });

  it("the no-tools invocation passes the argv builder's run-time checks, with --tools ''", () => {
    const inv = agentInvocation(agent("permissions:\n  profile: no-tools\n  deny: [WebFetch]"), run);
    const { args } = buildArgv(inv);
    expect(args.slice(args.indexOf("--tools"), args.indexOf("--tools") + 2)).toEqual(["--tools", ""]);
    expect(args).toContain("--disallowedTools");
    expect(args).not.toContain("--dangerously-skip-permissions");
  });

  it("the explicit model overrides the frontmatter model; without either there is none", () => {
    const spec = agent("model: claude-haiku-4-5\npermissions:\n  profile: no-tools");
    const inv = agentInvocation(spec, { ...run, model: "claude-opus-4-7" });
    expect(inv.model).toBe("claude-opus-4-7");
    expect(agentInvocation(spec, run).model).toBe("claude-haiku-4-5");
    expect(agentInvocation(agent("permissions:\n  profile: no-tools"), run).model).toBeUndefined();
  });

  it("per-run options pass through", () => {
    const inv = agentInvocation(agent("permissions:\n  profile: no-tools"), {
      session: { kind: "resume", id: "6d1f4c1e-9a51-4a43-9f0e-5d7e4c1b2a33" },
      output: "stream-json",
      includePartialMessages: true,
      maxBudgetUsd: 0.5,
      addDirs: ["/data"],
    });
    expect(inv).toMatchObject({
      session: { kind: "resume", id: "6d1f4c1e-9a51-4a43-9f0e-5d7e4c1b2a33" },
      output: "stream-json",
      includePartialMessages: true,
      maxBudgetUsd: 0.5,
      addDirs: ["/data"],
    });
  });
});
