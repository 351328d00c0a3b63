import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { findAgentsDir } from "./find-dir.js";
import { agentInvocation } from "./invocation.js";
import { loadAgents } from "./load.js";

// The agent files this repo ships: they must load, and their profiles must be what they claim.
describe("the repo's agents/", async () => {
  const dir = await findAgentsDir(import.meta.dirname);
  const registry = await loadAgents(dir);
  const run = { session: { kind: "ephemeral" }, output: "json" } as const;

  it("is found from this package and holds the five agents", () => {
    expect(dir).toBe(resolve(import.meta.dirname, "../../../agents"));
    expect(registry.names()).toEqual([
      "assistant",
      "breakglass",
      "conversational",
      "general",
      "recruiter-triage",
    ]);
  });

  it("assistant (the gateway's default): no tools at all", () => {
    const inv = agentInvocation(registry.get("assistant"), run);
    expect(inv.profile).toEqual({ kind: "no-tools" });
    expect(inv.tools).toEqual([]);
    expect(inv).not.toHaveProperty("allowedTools");
  });

  it("conversational: no tools at all, on haiku", () => {
    const inv = agentInvocation(registry.get("conversational"), run);
    expect(inv.profile).toEqual({ kind: "no-tools" });
    expect(inv.tools).toEqual([]);
    expect(inv.model).toBe("claude-haiku-4-5");
    expect(inv).not.toHaveProperty("allowedTools");
  });

  it("recruiter-triage: no tools", () => {
    expect(agentInvocation(registry.get("recruiter-triage"), run)).toMatchObject({
      profile: { kind: "no-tools" },
      tools: [],
    });
  });

  it("general: the coding tools, skipping permissions by the named opt-in", () => {
    expect(agentInvocation(registry.get("general"), run)).toMatchObject({
      profile: { kind: "tools", dangerouslySkipPermissions: true },
      tools: ["Bash", "Read", "Edit", "Write", "Glob", "Grep"],
    });
  });

  it("breakglass: no web, no allow rules and the default mode (the service's stdio prompt decides each call)", () => {
    const inv = agentInvocation(registry.get("breakglass"), run);
    expect(inv).toMatchObject({
      profile: { kind: "tools", dangerouslySkipPermissions: false },
      tools: ["Bash", "Read", "Grep", "Glob"],
      permissionMode: "default",
    });
    expect(inv).not.toHaveProperty("allowedTools");
  });
});
