import { describe, expect, it } from "vitest";
import { buildArgv, InvalidInvocationError, STRUCTURED_OUTPUT_TOOL } from "./argv.js";
import type { Invocation, NoToolsInvocation, ToolsInvocation } from "./invocation.js";

const ID = "0b5cf2a4-6a0e-4d6b-9b8e-2f1f0f6b9a11";
const mintId = () => ID;
const tools = (over: Partial<ToolsInvocation> = {}): ToolsInvocation => ({
  profile: { kind: "tools" },
  session: { kind: "ephemeral" },
  output: "json",
  ...over,
});
const noTools = (over: Partial<NoToolsInvocation> = {}): NoToolsInvocation => ({
  profile: { kind: "no-tools" },
  session: { kind: "ephemeral" },
  output: "json",
  ...over,
});
const argv = (inv: Invocation) => buildArgv(inv, { bin: "/opt/claude", mintId }).args;
const flagValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildArgv: sessions", () => {
  it("new mints a UUID and passes it as --session-id", () => {
    const built = buildArgv(tools({ session: { kind: "new" } }), { bin: "/opt/claude", mintId });
    expect(built.file).toBe("/opt/claude");
    expect(built.sessionId).toBe(ID);
    expect(flagValue(built.args, "--session-id")).toBe(ID);
    expect(built.args).not.toContain("--resume");
  });
  it("new takes a given UUID", () => {
    const other = "11111111-2222-4333-8444-555555555555";
    const built = buildArgv(tools({ session: { kind: "new", id: other } }), { bin: "c", mintId });
    expect(built.sessionId).toBe(other);
    expect(flagValue(built.args, "--session-id")).toBe(other);
  });
  it("resume passes --resume and no --session-id", () => {
    const built = buildArgv(tools({ session: { kind: "resume", id: ID } }), { bin: "c" });
    expect(flagValue(built.args, "--resume")).toBe(ID);
    expect(built.args).not.toContain("--session-id");
    expect(built.args).not.toContain("--fork-session");
    expect(built.sessionId).toBe(ID);
  });
  it("resume can fork: into a new session whose id is minted and named (--session-id)", () => {
    const forked = "22222222-3333-4444-8555-666666666666";
    const built = buildArgv(tools({ session: { kind: "resume", id: ID, fork: true } }), {
      bin: "c",
      mintId: () => forked,
    });
    expect(flagValue(built.args, "--resume")).toBe(ID);
    expect(built.args).toContain("--fork-session");
    expect(flagValue(built.args, "--session-id")).toBe(forked);
    expect(built.sessionId).toBe(forked);
    expect(() =>
      buildArgv(tools({ session: { kind: "resume", id: ID, fork: true } }), { bin: "c", mintId: () => "x" }),
    ).toThrow(InvalidInvocationError);
  });
  it("ephemeral persists nothing", () => {
    const built = buildArgv(tools({ session: { kind: "ephemeral" } }), { bin: "c" });
    expect(built.args).toContain("--no-session-persistence");
    expect(built.args).not.toContain("--session-id");
    expect(built.args).not.toContain("--resume");
    expect(built.sessionId).toBeUndefined();
  });
  it.each(["not-a-uuid", "--help", ""])("rejects the session id %j", (bad) => {
    expect(() => argv(tools({ session: { kind: "resume", id: bad } }))).toThrow(InvalidInvocationError);
    expect(() => argv(tools({ session: { kind: "new", id: bad } }))).toThrow(InvalidInvocationError);
  });
});

describe("buildArgv: output and prompt", () => {
  it("starts with -p and never carries the prompt", () => {
    const args = argv(tools());
    expect(args[0]).toBe("-p");
    // Every argument is a flag or a flag's value: there is no positional prompt.
    // Setting sources (empty), output format, snapshot.
    expect(args.filter((a) => !a.startsWith("-"))).toEqual(["", "json", "off"]);
  });
  it("input stream-json adds --input-format, and only with output stream-json (the CLI refuses it otherwise)", () => {
    const args = argv(tools({ output: "stream-json", input: "stream-json" }));
    expect(flagValue(args, "--input-format")).toBe("stream-json");
    expect(argv(tools({ output: "stream-json" }))).not.toContain("--input-format");
    expect(argv(tools({ output: "stream-json", input: "text" }))).not.toContain("--input-format");
    expect(() => argv(tools({ output: "json", input: "stream-json" }))).toThrow(InvalidInvocationError);
  });
  it("json output has no --verbose", () => {
    const args = argv(tools({ output: "json" }));
    expect(flagValue(args, "--output-format")).toBe("json");
    expect(args).not.toContain("--verbose");
  });
  it("stream-json always comes with --verbose", () => {
    const args = argv(tools({ output: "stream-json" }));
    expect(flagValue(args, "--output-format")).toBe("stream-json");
    expect(args).toContain("--verbose");
    expect(args).not.toContain("--include-partial-messages");
  });
  it("partial messages only with stream-json", () => {
    expect(argv(tools({ output: "stream-json", includePartialMessages: true }))).toContain(
      "--include-partial-messages",
    );
    expect(() => argv(tools({ output: "json", includePartialMessages: true }))).toThrow(
      InvalidInvocationError,
    );
  });
});

describe("buildArgv: model, prompts, agents, limits", () => {
  it("passes --model verbatim", () => {
    expect(flagValue(argv(tools({ model: "claude-haiku-4-5" })), "--model")).toBe("claude-haiku-4-5");
    expect(argv(tools())).not.toContain("--model");
  });
  it.each(["", " ", "--dangerously-skip-permissions"])("refuses the model %j", (model) => {
    expect(() => argv(tools({ model }))).toThrow(InvalidInvocationError);
  });
  it("system prompt and appended prompt", () => {
    const args = argv(tools({ systemPrompt: "You are terse.", appendSystemPrompt: "Answer in Bulgarian." }));
    expect(flagValue(args, "--system-prompt")).toBe("You are terse.");
    expect(flagValue(args, "--append-system-prompt")).toBe("Answer in Bulgarian.");
  });
  it("the system prompt is this run's: the CLI's snapshot of the first run's is off unless asked for", () => {
    expect(flagValue(argv(tools()), "--system-prompt-snapshot")).toBe("off");
    expect(
      flagValue(argv(noTools({ session: { kind: "resume", id: ID } })), "--system-prompt-snapshot"),
    ).toBe("off");
    expect(flagValue(argv(tools({ systemPromptSnapshot: true })), "--system-prompt-snapshot")).toBe("on");
  });
  it("an inline agent becomes --agents JSON plus --agent", () => {
    const args = argv(
      tools({
        agent: {
          name: "triage",
          definition: {
            name: "triage",
            description: "Triage",
            prompt: "Be brief.",
            tools: ["Read"],
            model: "haiku",
          },
        },
      }),
    );
    expect(JSON.parse(flagValue(args, "--agents")!)).toEqual({
      triage: { description: "Triage", prompt: "Be brief.", tools: ["Read"], model: "haiku" },
    });
    expect(flagValue(args, "--agent")).toBe("triage");
  });
  it("with a JSON schema, an agent's own tool list also names the CLI's StructuredOutput tool (else it filters it out)", () => {
    const agent = (tools?: readonly string[]) => ({
      name: "a",
      definition: { name: "a", description: "A", prompt: "p", ...(tools ? { tools } : {}) },
    });
    const defOf = (inv: Invocation) => JSON.parse(flagValue(argv(inv), "--agents")!).a;
    const schema = { type: "object" };
    expect(defOf(noTools({ agent: agent([]), jsonSchema: schema })).tools).toEqual([STRUCTURED_OUTPUT_TOOL]);
    expect(defOf(tools({ agent: agent(["Read"]), jsonSchema: schema })).tools).toEqual([
      "Read",
      STRUCTURED_OUTPUT_TOOL,
    ]);
    expect(defOf(tools({ agent: agent([STRUCTURED_OUTPUT_TOOL]), jsonSchema: schema })).tools).toEqual([
      STRUCTURED_OUTPUT_TOOL,
    ]);
    // No list (all tools) and no schema: as given.
    expect(defOf(tools({ agent: agent(), jsonSchema: schema }))).not.toHaveProperty("tools");
    expect(defOf(noTools({ agent: agent([]) })).tools).toEqual([]);
    // The request's own tools stay as they were: `--tools ""` for the no-tools profile.
    expect(flagValue(argv(noTools({ agent: agent([]), jsonSchema: schema })), "--tools")).toBe("");
  });
  it("a named agent without a definition is only --agent", () => {
    const args = argv(tools({ agent: { name: "general" } }));
    expect(flagValue(args, "--agent")).toBe("general");
    expect(args).not.toContain("--agents");
  });
  it.each(["hooks", "mcpServers", "permissionMode", "skills"])(
    "an agent definition with %s is refused (the CLI would honour it despite the isolation flags)",
    (key) => {
      const definition = { name: "a", description: "A", prompt: "p", [key]: { x: 1 } };
      const build = () => argv(tools({ agent: { name: "a", definition } }));
      expect(build).toThrow(InvalidInvocationError);
      expect(build).toThrow(new RegExp(`not ${key}$`));
    },
  );
  it("agent and system prompt are exclusive; names must agree", () => {
    expect(() => argv(tools({ agent: { name: "a" }, systemPrompt: "x" }))).toThrow(InvalidInvocationError);
    expect(() =>
      argv(tools({ agent: { name: "a", definition: { name: "b", description: "", prompt: "" } } })),
    ).toThrow(InvalidInvocationError);
  });
  it("budget, extra dirs, json schema", () => {
    const args = argv(tools({ maxBudgetUsd: 1.5, addDirs: ["/a", "/b"], jsonSchema: { type: "object" } }));
    expect(flagValue(args, "--max-budget-usd")).toBe("1.5");
    expect(args.filter((a) => a === "--add-dir")).toHaveLength(2);
    expect(JSON.parse(flagValue(args, "--json-schema")!)).toEqual({ type: "object" });
  });
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("refuses the budget %s", (maxBudgetUsd) => {
    expect(() => argv(tools({ maxBudgetUsd }))).toThrow(InvalidInvocationError);
  });
});

describe("buildArgv: tools and permissions", () => {
  it("default tools emit no --tools", () => {
    expect(argv(tools())).not.toContain("--tools");
  });
  it("an empty tool list becomes --tools with an empty string", () => {
    const args = argv(tools({ tools: [] }));
    expect(args).toContain("--tools");
    expect(flagValue(args, "--tools")).toBe("");
  });
  it("named tools are comma-joined", () => {
    expect(flagValue(argv(tools({ tools: ["Bash", "Read"] })), "--tools")).toBe("Bash,Read");
  });
  it("allowed and disallowed patterns are separate values (patterns may contain spaces)", () => {
    const args = argv(tools({ allowedTools: ["Bash(ssh devvm:*)", "Read"], disallowedTools: ["WebFetch"] }));
    const i = args.indexOf("--allowedTools");
    expect(args.slice(i + 1, i + 3)).toEqual(["Bash(ssh devvm:*)", "Read"]);
    expect(flagValue(args, "--disallowedTools")).toBe("WebFetch");
  });
  it("permission mode", () => {
    expect(flagValue(argv(tools({ permissionMode: "dontAsk" })), "--permission-mode")).toBe("dontAsk");
  });
  it("skip-permissions only from a tools profile that opts in by name", () => {
    expect(argv(tools())).not.toContain("--dangerously-skip-permissions");
    expect(argv(tools({ profile: { kind: "tools", dangerouslySkipPermissions: false } }))).not.toContain(
      "--dangerously-skip-permissions",
    );
    expect(argv(tools({ profile: { kind: "tools", dangerouslySkipPermissions: true } }))).toContain(
      "--dangerously-skip-permissions",
    );
  });
  it('the no-tools profile always sends --tools "" and never the skip flag', () => {
    const args = argv(noTools());
    expect(flagValue(args, "--tools")).toBe("");
    expect(args).not.toContain("--dangerously-skip-permissions");
    expect(args).not.toContain("--allowedTools");
  });
  it("the no-tools profile refuses, at run time, anything that would give it tools or skip checks", () => {
    // Untyped callers (JSON from the wire) can still try; the builder throws.
    const cast = (x: unknown) => x as Invocation;
    expect(() =>
      argv(cast({ ...noTools(), profile: { kind: "no-tools", dangerouslySkipPermissions: true } })),
    ).toThrow(/never skip/);
    expect(() =>
      argv(cast({ ...noTools(), profile: { kind: "no-tools", dangerouslySkipPermissions: false } })),
    ).toThrow(/never skip/);
    expect(() => argv(cast({ ...noTools(), tools: ["Bash"] }))).toThrow(/offers no tools/);
    expect(() => argv(cast({ ...noTools(), allowedTools: ["Bash"] }))).toThrow(/allows no tools/);
    expect(() => argv(cast({ ...noTools(), permissionMode: "bypassPermissions" }))).toThrow(/bypass/);
    expect(() => argv(cast({ ...noTools(), permissionMode: "auto" }))).toThrow(/bypass|auto/);
  });
  it("the no-tools profile cannot even be typed with tools or the skip flag", () => {
    const a: NoToolsInvocation = {
      ...noTools(),
      // @ts-expect-error: the no-tools profile has no dangerouslySkipPermissions
      profile: { kind: "no-tools", dangerouslySkipPermissions: true },
    };
    // @ts-expect-error: the no-tools profile only takes an empty tool list
    const b: NoToolsInvocation = { ...noTools(), tools: ["Bash"] };
    expect([a, b]).toHaveLength(2);
  });
  it("client tools: the in-process server as the only MCP server, only its tools allowed, built-ins still off", () => {
    const args = argv(noTools({ clientTools: true, input: "stream-json", output: "stream-json" }));
    expect(flagValue(args, "--tools")).toBe("");
    expect(args).toContain("--strict-mcp-config");
    expect(JSON.parse(flagValue(args, "--mcp-config")!)).toEqual({
      mcpServers: { client: { type: "sdk", name: "client" } },
    });
    expect(args.filter((a) => a === "--mcp-config")).toHaveLength(1);
    expect(flagValue(args, "--allowedTools")).toBe("mcp__client");
    expect(args).not.toContain("--dangerously-skip-permissions");
  });
  it("client tools: an agent's own (empty) tool list is left out of its definition, which would hide them", () => {
    const definition = { name: "assistant", description: "A", prompt: "p", tools: [] };
    const agent = { name: "assistant", definition };
    const withClient = argv(
      noTools({ clientTools: true, input: "stream-json", output: "stream-json", agent }),
    );
    expect(JSON.parse(flagValue(withClient, "--agents")!)).toEqual({
      assistant: { description: "A", prompt: "p" },
    });
    expect(flagValue(withClient, "--tools")).toBe("");
    const without = argv(noTools({ agent }));
    expect(JSON.parse(flagValue(without, "--agents")!).assistant.tools).toEqual([]);
  });
  it("client tools need stream-json input, and never come with the tools profile", () => {
    expect(() => argv(noTools({ clientTools: true, output: "stream-json" }))).toThrow(
      "client tools need input and output 'stream-json'",
    );
    const withTools = {
      ...tools({ input: "stream-json", output: "stream-json" }),
      clientTools: true,
    } as Invocation;
    expect(() => argv(withTools)).toThrow("client tools only with the no-tools profile");
  });
  it("an unknown profile is refused", () => {
    expect(() => argv({ ...tools(), profile: { kind: "root" } } as unknown as Invocation)).toThrow(
      /unknown profile/,
    );
  });
});

describe("buildArgv: settings come from the deployer only", () => {
  const cast = (x: unknown) => x as Invocation;
  const agent = { name: "a", definition: { name: "a", description: "A", prompt: "p" } };
  it.each<[string, Invocation]>([
    ["tools", tools()],
    ["tools, skipping permissions", tools({ profile: { kind: "tools", dangerouslySkipPermissions: true } })],
    ["no tools", noTools()],
    ["a new session, stream-json", tools({ session: { kind: "new" }, output: "stream-json" })],
    ["a resumed session", noTools({ session: { kind: "resume", id: ID } })],
    ["an inline agent", noTools({ agent })],
    ["a system prompt, extra dirs, a schema", tools({ systemPrompt: "s", addDirs: ["/d"], jsonSchema: {} })],
    // Untyped callers: fields that look like they could turn the flags off are not read.
    [
      "untyped fields asking for settings or MCP servers",
      cast({
        ...tools(),
        settingSources: "user,project,local",
        strictMcpConfig: false,
        mcpConfig: "/tmp/servers.json",
        settings: '{"hooks":{}}',
      }),
    ],
  ])('%s: --setting-sources "" and --strict-mcp-config, exactly once, and no MCP config', (_name, inv) => {
    const args = argv(inv);
    expect(args.filter((a) => a === "--setting-sources")).toHaveLength(1);
    expect(flagValue(args, "--setting-sources")).toBe("");
    expect(args.filter((a) => a === "--strict-mcp-config")).toHaveLength(1);
    expect(args).not.toContain("--mcp-config");
    expect(args).not.toContain("--settings");
    expect(args).not.toContain("/tmp/servers.json");
  });
});
