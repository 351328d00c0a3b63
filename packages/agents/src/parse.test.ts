import { describe, expect, it } from "vitest";
import { AgentFileError } from "./errors.js";
import { parseAgentFile } from "./parse.js";

const file = (front: string, body = "You are a test agent.\n") => `---\n${front}\n---\n${body}`;
const TOOLS = "permissions:\n  profile: tools";
const NO_TOOLS = "permissions:\n  profile: no-tools";

/** The messages of the AgentFileError that parsing throws. */
function problems(fileName: string, text: string): string[] {
  try {
    parseAgentFile(fileName, text);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentFileError);
    const { problems } = err as AgentFileError;
    expect(new Set(problems.map((p) => p.file))).toEqual(new Set([fileName]));
    return problems.map((p) => p.message);
  }
  throw new Error("expected an AgentFileError");
}

describe("parseAgentFile: valid files", () => {
  it("reads the frontmatter and takes the trimmed body as the prompt", () => {
    const spec = parseAgentFile(
      "agents/coder.md",
      file(
        [
          "name: coder",
          "description: Writes code.",
          "tools: [Bash, Read]",
          "model: claude-sonnet-4-6",
          "permissions:",
          "  profile: tools",
          "  mode: dontAsk",
          '  allow: ["Bash(git:*)"]',
          "  deny: [WebFetch]",
        ].join("\n"),
        "\nYou write code.\n\nCarefully.\n\n",
      ),
    );
    expect(spec).toEqual({
      name: "coder",
      description: "Writes code.",
      tools: ["Bash", "Read"],
      model: "claude-sonnet-4-6",
      permissions: {
        profile: "tools",
        mode: "dontAsk",
        allow: ["Bash(git:*)"],
        deny: ["WebFetch"],
        skipPermissions: false,
      },
      prompt: "You write code.\n\nCarefully.",
      file: "agents/coder.md",
    });
  });

  it.each([
    ["a YAML list", "tools: [Read, Grep]", ["Read", "Grep"]],
    ["a block list", "tools:\n  - Read\n  - Grep", ["Read", "Grep"]],
    ["a comma-separated string", "tools: Read, Grep", ["Read", "Grep"]],
    ["a string with stray commas and spaces", "tools: ' Read ,, Grep, '", ["Read", "Grep"]],
    ["MCP tool names", "tools: [mcp__github__get_issue]", ["mcp__github__get_issue"]],
    ["absent: the CLI's default set", "", undefined],
  ])("tools as %s", (_, line, expected) => {
    const spec = parseAgentFile("a.md", file(`name: a\ndescription: d\n${line}\n${TOOLS}`));
    expect(spec.tools).toEqual(expected);
  });

  it("no-tools: tools [] or absent both mean none; deny and a safe mode are kept", () => {
    for (const tools of ["tools: []", "tools: ''", ""]) {
      const spec = parseAgentFile("a.md", file(`name: a\ndescription: d\n${tools}\n${NO_TOOLS}`));
      expect(spec.tools).toEqual([]);
      expect(spec.permissions).toEqual({ profile: "no-tools", deny: [] });
    }
    const spec = parseAgentFile(
      "a.md",
      file(`name: a\ndescription: d\n${NO_TOOLS}\n  mode: plan\n  deny: [WebFetch]`),
    );
    expect(spec.permissions).toEqual({ profile: "no-tools", mode: "plan", deny: ["WebFetch"] });
  });

  it("skipPermissions is the named opt-in, also with mode bypassPermissions", () => {
    const spec = parseAgentFile(
      "a.md",
      file(`name: a\ndescription: d\n${TOOLS}\n  mode: bypassPermissions\n  skipPermissions: true`),
    );
    expect(spec.permissions).toMatchObject({ skipPermissions: true, mode: "bypassPermissions" });
  });

  it("accepts CRLF line endings and a byte-order mark", () => {
    const text = `\uFEFF${file(`name: a\ndescription: d\n${TOOLS}`, "Prompt.\n")}`.replaceAll("\n", "\r\n");
    expect(parseAgentFile("a.md", text).prompt).toBe("Prompt.");
  });
});

describe("parseAgentFile: every problem is reported, naming the file", () => {
  it("missing name and description", () => {
    expect(problems("a.md", file(TOOLS))).toEqual(["name: is required", "description: is required"]);
  });

  it("name must equal the file's base name", () => {
    expect(problems("dir/coder.md", file(`name: other\ndescription: d\n${TOOLS}`))).toEqual([
      "name: 'other' must equal the file's base name 'coder'",
    ]);
  });

  it("name must be lowercase letters, digits and dashes", () => {
    const msgs = problems("Coder.md", file(`name: Coder\ndescription: d\n${TOOLS}`));
    expect(msgs).toEqual([expect.stringMatching(/^name: must match/)]);
  });

  it("the file must be a .md file", () => {
    expect(problems("a.txt", file(`name: a\ndescription: d\n${TOOLS}`))).toContainEqual(
      "an agent file's name must end in .md",
    );
  });

  it("unknown keys, at the top and in permissions", () => {
    const msgs = problems(
      "a.md",
      file(`name: a\ndescription: d\ncolour: blue\nmodle: x\n${TOOLS}\n  skip: true`),
    );
    expect(msgs).toEqual([
      'permissions: unknown key "skip" (known: profile, mode, allow, deny, skipPermissions)',
      'unknown keys "colour", "modle" (known: name, description, tools, model, permissions)',
    ]);
  });

  it("permissions is required, and its profile", () => {
    expect(problems("a.md", file("name: a\ndescription: d"))).toEqual([
      expect.stringMatching(/^permissions: is required/),
    ]);
    expect(problems("a.md", file("name: a\ndescription: d\npermissions:\n  mode: plan"))).toEqual([
      "permissions.profile: is required",
    ]);
    expect(problems("a.md", file("name: a\ndescription: d\npermissions:\n  profile: all"))).toEqual([
      'permissions.profile: must be "tools" or "no-tools"',
    ]);
  });

  it("bad tool names, patterns, modes and types", () => {
    const msgs = problems(
      "a.md",
      file(
        `name: a\ndescription: ''\ntools: [bash, "Read,Grep"]\nmodel: --help\n${TOOLS}\n  mode: yolo\n  allow: ["rm -rf"]\n  skipPermissions: "no"`,
      ),
    );
    expect(msgs).toEqual([
      "description: must not be empty",
      expect.stringMatching(/^tools\.0: 'bash' is not a tool name/),
      expect.stringMatching(/^tools\.1: 'Read,Grep' is not a tool name/),
      expect.stringMatching(/^model: must be a model id/),
      expect.stringMatching(/^permissions\.mode: /),
      expect.stringMatching(/^permissions\.allow\.0: 'rm -rf' is not a tool pattern/),
      expect.stringMatching(/^permissions\.skipPermissions: /),
    ]);
  });

  it("no-tools forbids tools, allow, skipPermissions and bypassing modes", () => {
    const msgs = problems(
      "a.md",
      file(
        `name: a\ndescription: d\ntools: [Read]\n${NO_TOOLS}\n  mode: bypassPermissions\n  allow: [Read]\n  skipPermissions: false`,
      ),
    );
    expect(msgs).toEqual([
      expect.stringMatching(/^tools: the no-tools profile offers no tools/),
      "permissions.allow: the no-tools profile allows no tools",
      expect.stringMatching(/^permissions\.skipPermissions: only for profile tools/),
      "permissions.mode: the no-tools profile can never bypass permission checks (bypassPermissions)",
    ]);
    expect(problems("a.md", file(`name: a\ndescription: d\n${NO_TOOLS}\n  mode: auto`))).toEqual([
      "permissions.mode: the no-tools profile can never bypass permission checks (auto)",
    ]);
  });

  it("tools profile: misleading combinations", () => {
    const base = "name: a\ndescription: d";
    expect(problems("a.md", file(`${base}\ntools: []\n${TOOLS}`))).toEqual([
      "tools: [] offers no tools: use permissions.profile: no-tools",
    ]);
    expect(problems("a.md", file(`${base}\n${TOOLS}\n  mode: bypassPermissions`))).toEqual([
      expect.stringMatching(/opt in by name with skipPermissions: true/),
    ]);
    expect(
      problems("a.md", file(`${base}\n${TOOLS}\n  mode: dontAsk\n  allow: [Read]\n  skipPermissions: true`)),
    ).toEqual([
      "permissions.mode: dontAsk contradicts skipPermissions: true",
      expect.stringMatching(/^permissions\.allow: has no effect with skipPermissions/),
    ]);
    expect(
      problems("a.md", file(`${base}\ntools: [Read, Read]\n${TOOLS}\n  allow: ["Bash(git:*)"]`)),
    ).toEqual([
      "permissions.allow: 'Bash(git:*)' names Bash, which tools does not offer",
      "tools: lists a tool twice",
    ]);
  });

  it("an empty body", () => {
    expect(problems("a.md", file(`name: a\ndescription: d\n${TOOLS}`, "  \n\n"))).toEqual([
      "the body (the agent's system prompt, after the closing '---') is empty",
    ]);
  });

  it("bad YAML, with the file's line number; the body is still checked", () => {
    const msgs = problems("a.md", "---\nname: a\ndescription: d: e\n---\n");
    expect(msgs).toEqual([
      expect.stringMatching(/^YAML line 3: /),
      expect.stringMatching(/body .* is empty/),
    ]);
    expect(problems("a.md", "---\nname: a\nname: b\n---\nx")).toEqual([
      expect.stringMatching(/^YAML line 3: .*uniq/i),
    ]);
  });

  it("no frontmatter, an unclosed one, or one that is not a mapping", () => {
    expect(problems("a.md", "name: a\n")).toEqual([
      expect.stringMatching(/must start with a YAML frontmatter/),
    ]);
    expect(problems("a.md", "---\nname: a\n")).toEqual([expect.stringMatching(/not closed/)]);
    expect(problems("a.md", "---\n- a\n- b\n---\nx")).toEqual([
      expect.stringMatching(/must be a YAML mapping/),
    ]);
  });

  it("the error message names the file and lists each problem", () => {
    try {
      parseAgentFile("agents/x.md", file("name: y\ndescription: d\npermissions: {profile: no-tools}", ""));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe(
        [
          "Invalid agent file agents/x.md:",
          "  - name: 'y' must equal the file's base name 'x'",
          "  - the body (the agent's system prompt, after the closing '---') is empty",
        ].join("\n"),
      );
    }
  });
});
