import type { PermissionMode } from "@claude-gateway/claude";

/** Permission modes that never skip checks: the only ones an agent without tools may name. */
export type NoToolsPermissionMode = Exclude<PermissionMode, "bypassPermissions" | "auto">;

/** The agent can execute nothing: the API request offers no tool at all. */
export interface NoToolsPermissions {
  profile: "no-tools";
  mode?: NoToolsPermissionMode;
  deny: readonly string[];
}

export interface ToolsPermissions {
  profile: "tools";
  mode?: PermissionMode;
  /** `--allowedTools` patterns, e.g. `Bash(git:*)`. */
  allow: readonly string[];
  /** `--disallowedTools` patterns. */
  deny: readonly string[];
  /** The named opt-in for `--dangerously-skip-permissions`. */
  skipPermissions: boolean;
}

export type AgentPermissions = NoToolsPermissions | ToolsPermissions;

/** One validated agent file (`agents/<name>.md`). */
export interface AgentSpec {
  name: string;
  description: string;
  /** The tools the API request offers; `undefined` keeps the CLI's default set, `[]` offers none. */
  tools: readonly string[] | undefined;
  model?: string;
  permissions: AgentPermissions;
  /** The file's body: the agent's system prompt. */
  prompt: string;
  /** Where the spec was read from, for messages. */
  file: string;
}
