import { buildArgv, type Invocation } from "@claude-gateway/claude";
import { describe, expect, it } from "vitest";
import { PROJECT_INSTRUCTIONS_HEADER, withProjectInstructions } from "./project-instructions.js";

const base: Invocation = {
  profile: { kind: "tools" },
  session: { kind: "ephemeral" },
  output: "stream-json",
  agent: { name: "general" },
};

describe("withProjectInstructions", () => {
  it.each([undefined, "", " \n\t"])("leaves the invocation as it is for %j", (text) => {
    expect(withProjectInstructions(base, text)).toBe(base);
  });

  it("appends the text under a header", () => {
    const inv = withProjectInstructions(base, "Run `make test` before you answer.");
    expect(inv.appendSystemPrompt).toBe(
      `${PROJECT_INSTRUCTIONS_HEADER}\n\nRun \`make test\` before you answer.`,
    );
    expect({ ...inv, appendSystemPrompt: undefined }).toEqual({ ...base, appendSystemPrompt: undefined });
  });

  it("goes after a prompt the invocation already appends, which stays first", () => {
    const inv = withProjectInstructions({ ...base, appendSystemPrompt: "Answer in Bulgarian." }, "Use tabs.");
    expect(inv.appendSystemPrompt).toBe(
      `Answer in Bulgarian.\n\n${PROJECT_INSTRUCTIONS_HEADER}\n\nUse tabs.`,
    );
  });

  it("does not change the invocation it was given", () => {
    const given = { ...base, appendSystemPrompt: "x" };
    withProjectInstructions(given, "y");
    expect(given.appendSystemPrompt).toBe("x");
  });

  it("reaches the CLI as --append-system-prompt, text that looks like flags included", () => {
    const { args } = buildArgv(withProjectInstructions(base, "--dangerously-skip-permissions"), {
      bin: "claude",
    });
    expect(args[args.indexOf("--append-system-prompt") + 1]).toBe(
      `${PROJECT_INSTRUCTIONS_HEADER}\n\n--dangerously-skip-permissions`,
    );
    expect(args).not.toContain("--dangerously-skip-permissions");
  });
});
