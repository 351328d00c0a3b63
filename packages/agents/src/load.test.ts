import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@claude-gateway/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentFileError, AgentsDirError, UnknownAgentError } from "./errors.js";
import { findAgentsDir } from "./find-dir.js";
import { loadAgents } from "./load.js";
import { parseAgentFile } from "./parse.js";
import { AgentRegistry } from "./registry.js";

const agentText = (name: string, extra = "") =>
  `---\nname: ${name}\ndescription: The ${name} agent.\npermissions:\n  profile: no-tools\n${extra}---\nYou are ${name}.\n`;

let tmp: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir("cg-agents-");
});
afterEach(async () => {
  await tmp.cleanup();
});

describe("loadAgents", () => {
  it("reads every *.md, skipping hidden entries and other files", async () => {
    await writeFile(join(tmp.dir, "beta.md"), agentText("beta"));
    await writeFile(join(tmp.dir, "alpha.md"), agentText("alpha"));
    await writeFile(join(tmp.dir, "notes.txt"), "not an agent");
    await writeFile(join(tmp.dir, ".draft.md"), "half-written");
    // A Kubernetes ConfigMap mount: hidden data dir, visible symlinks.
    await mkdir(join(tmp.dir, "..data"));
    await writeFile(join(tmp.dir, "..data", "gamma.md"), agentText("gamma"));
    await symlink(join("..data", "gamma.md"), join(tmp.dir, "gamma.md"));

    const registry = await loadAgents(tmp.dir);
    expect(registry.names()).toEqual(["alpha", "beta", "gamma"]);
    expect(registry.has("alpha")).toBe(true);
    expect(registry.has("notes")).toBe(false);
    expect(registry.get("beta")).toMatchObject({
      name: "beta",
      prompt: "You are beta.",
      file: join(tmp.dir, "beta.md"),
    });
  });

  it("one AgentFileError lists the problems of every bad file", async () => {
    await writeFile(join(tmp.dir, "good.md"), agentText("good"));
    await writeFile(join(tmp.dir, "b.md"), agentText("other"));
    await writeFile(join(tmp.dir, "a.md"), agentText("a", "  skipPermissions: true\n"));
    const err = await loadAgents(tmp.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentFileError);
    const { problems, message } = err as AgentFileError;
    expect(problems.map((p) => p.file)).toEqual([join(tmp.dir, "a.md"), join(tmp.dir, "b.md")]);
    expect(message).toContain(
      `Invalid agent file ${join(tmp.dir, "a.md")}:\n  - permissions.skipPermissions`,
    );
    expect(message).toContain(`Invalid agent file ${join(tmp.dir, "b.md")}:\n  - name: 'other'`);
  });

  it("an unreadable entry is a problem of that file", async () => {
    await mkdir(join(tmp.dir, "dir.md"));
    const err = (await loadAgents(tmp.dir).catch((e: unknown) => e)) as AgentFileError;
    expect(err).toBeInstanceOf(AgentFileError);
    expect(err.problems).toEqual([{ file: join(tmp.dir, "dir.md"), message: "cannot read (EISDIR)" }]);
  });

  it("a missing directory or one without agents is an AgentsDirError", async () => {
    await expect(loadAgents(join(tmp.dir, "nope"))).rejects.toThrow(AgentsDirError);
    await expect(loadAgents(join(tmp.dir, "nope"))).rejects.toThrow(
      /cannot read the agents directory .*ENOENT/,
    );
    await writeFile(join(tmp.dir, "README.txt"), "");
    await expect(loadAgents(tmp.dir)).rejects.toThrow(/no agent files \(\*\.md\)/);
  });
});

describe("AgentRegistry", () => {
  const spec = (name: string, file = `${name}.md`) => parseAgentFile(file, agentText(name));

  it("refuses two agents of the same name, naming both files", () => {
    expect(() => new AgentRegistry([spec("a", "x/a.md"), spec("a", "y/a.md")])).toThrow(
      "Invalid agent file y/a.md:\n  - agent 'a' is already defined in x/a.md",
    );
  });

  it("get of an unknown name is a client error listing the known agents", () => {
    const registry = new AgentRegistry([spec("b"), spec("a")]);
    const err = (() => {
      try {
        registry.get("c");
      } catch (e) {
        return e;
      }
    })() as UnknownAgentError;
    expect(err).toBeInstanceOf(UnknownAgentError);
    expect(err).toMatchObject({ code: "unknown_agent", agent: "c", known: ["a", "b"] });
    expect(err.message).toBe("unknown agent 'c'; known agents: a, b");
  });
});

describe("findAgentsDir", () => {
  it("walks up to agents/ with *.md files, skipping a package named agents", async () => {
    const root = tmp.dir;
    await mkdir(join(root, "agents"));
    await writeFile(join(root, "agents", "a.md"), agentText("a"));
    const src = join(root, "packages", "agents", "src");
    await mkdir(src, { recursive: true });
    await writeFile(join(root, "packages", "agents", "package.json"), "{}");
    await writeFile(join(root, "packages", "agents", "README.md"), "# a package");
    expect(await findAgentsDir(src)).toBe(join(root, "agents"));
    expect(await findAgentsDir(join(root, "agents"))).toBe(join(root, "agents"));
  });

  it("an empty agents/ does not count; none found is an AgentsDirError that says what to set", async () => {
    await mkdir(join(tmp.dir, "agents"));
    await expect(findAgentsDir(tmp.dir)).rejects.toThrow(AgentsDirError);
    await expect(findAgentsDir(tmp.dir)).rejects.toThrow(/set AGENTS_DIR/);
  });
});
