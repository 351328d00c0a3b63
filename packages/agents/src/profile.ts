import type { AgentFrontmatter } from "./schema.js";
import type { AgentPermissions } from "./spec.js";

/**
 * Turns the `permissions` block into a typed profile, pushing every rule it breaks. The rules
 * mirror what the claude package's argv builder refuses, so a bad file fails at start-up rather
 * than on the first job, plus combinations that are legal flags but misleading configuration.
 */
export function permissionsOf(fm: AgentFrontmatter, problems: string[]): AgentPermissions {
  const { profile, mode, allow, deny = [], skipPermissions } = fm.permissions;
  const tools = fm.tools;

  if (profile === "no-tools") {
    if (tools !== undefined && tools.length > 0) {
      problems.push(
        `tools: the no-tools profile offers no tools: use [] or leave it out (got ${tools.join(", ")})`,
      );
    }
    if (allow !== undefined) problems.push("permissions.allow: the no-tools profile allows no tools");
    if (skipPermissions !== undefined) {
      problems.push(
        "permissions.skipPermissions: only for profile tools; the no-tools profile never skips checks",
      );
    }
    if (mode === "bypassPermissions" || mode === "auto") {
      problems.push(`permissions.mode: the no-tools profile can never bypass permission checks (${mode})`);
      return { profile, deny };
    }
    return { profile, ...(mode ? { mode } : {}), deny };
  }

  if (tools !== undefined && tools.length === 0) {
    problems.push("tools: [] offers no tools: use permissions.profile: no-tools");
  }
  if (mode === "bypassPermissions" && skipPermissions !== true) {
    problems.push(
      "permissions.mode: bypassPermissions skips every check: opt in by name with skipPermissions: true",
    );
  }
  if (skipPermissions === true) {
    if (mode !== undefined && mode !== "bypassPermissions") {
      problems.push(`permissions.mode: ${mode} contradicts skipPermissions: true`);
    }
    if (allow !== undefined) {
      problems.push("permissions.allow: has no effect with skipPermissions: true (every call is allowed)");
    }
  }
  for (const pattern of allow ?? []) {
    const tool = pattern.replace(/\(.*$/, "");
    if (tools !== undefined && !tools.includes(tool)) {
      problems.push(`permissions.allow: '${pattern}' names ${tool}, which tools does not offer`);
    }
  }
  if (tools !== undefined && new Set(tools).size !== tools.length) problems.push("tools: lists a tool twice");

  return {
    profile,
    ...(mode ? { mode } : {}),
    allow: allow ?? [],
    deny,
    skipPermissions: skipPermissions ?? false,
  };
}
