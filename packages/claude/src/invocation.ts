/**
 * A typed description of one `claude -p` run. The argv builder turns it into argv; nothing here
 * does I/O.
 */

export type SessionMode =
  /** A new persistent session; `id` is minted when absent. */
  | { kind: "new"; id?: string }
  /**
   * Continue a recorded session (it must exist under the run's cwd); with `fork`, into a new
   * session (minted like a new one's id) and the resumed one stays as it was.
   */
  | { kind: "resume"; id: string; fork?: boolean }
  /** Nothing is written to disk. */
  | { kind: "ephemeral" };

export type PermissionMode = "default" | "acceptEdits" | "auto" | "plan" | "dontAsk" | "bypassPermissions";
export type OutputFormat = "json" | "stream-json";
/**
 * What stdin carries: the prompt as plain text (the default), or one JSON user message per line
 * (`--input-format stream-json`, needs output `stream-json`), which can hold content blocks.
 */
export type InputFormat = "text" | "stream-json";

/** An agent passed inline (`--agents <json> --agent <name>`), so nothing is written into a checkout. */
export interface AgentDefinition {
  name: string;
  description: string;
  prompt: string;
  tools?: readonly string[];
  model?: string;
}

interface CommonInvocation {
  session: SessionMode;
  model?: string;
  output: OutputFormat;
  input?: InputFormat;
  /** Only with `stream-json`: raw SSE events as `stream_event` lines, for live text. */
  includePartialMessages?: boolean;
  /** Replaces the default system prompt. Exclusive with `agent`. */
  systemPrompt?: string;
  appendSystemPrompt?: string;
  /**
   * Reuse the system prompt recorded by the session's first run (the CLI's default since 2.1.2xx),
   * instead of this run's. Off unless asked for: the system prompt of every run is the one its
   * invocation gives, never text read back from a transcript (which the agent's own tools can
   * write, and which crosses the bus). With it on, a resumed turn ignores a changed
   * `--append-system-prompt` (proven in `test/cli-facts.sessions.cli.test.ts`).
   */
  systemPromptSnapshot?: boolean;
  agent?: { name: string; definition?: AgentDefinition };
  maxBudgetUsd?: number;
  addDirs?: readonly string[];
  /** Structured output: the JSON schema the final answer must satisfy. */
  jsonSchema?: Record<string, unknown>;
}

/**
 * The conversational profile: the agent can execute nothing. The type has no way to ask for
 * tools or for skipping permissions, and the builder re-checks at run time for untyped callers.
 */
export interface NoToolsProfile {
  kind: "no-tools";
}

/** A profile that offers tools. Skipping permission checks is a named, explicit opt-in. */
export interface ToolsProfile {
  kind: "tools";
  /** Emits `--dangerously-skip-permissions`. Only for sandboxed, single-purpose agents. */
  dangerouslySkipPermissions?: boolean;
}

export interface NoToolsInvocation extends CommonInvocation {
  profile: NoToolsProfile;
  /**
   * The caller's own tools, offered through the in-process MCP server of the process driving the
   * CLI (`ToolHost`): the model may call them, the caller runs them; the agent still executes
   * nothing. Needs stream-json input and output (the server speaks over them).
   */
  clientTools?: boolean;
  tools?: readonly [];
  allowedTools?: never;
  disallowedTools?: readonly string[];
  permissionMode?: Exclude<PermissionMode, "bypassPermissions" | "auto">;
}

export interface ToolsInvocation extends CommonInvocation {
  profile: ToolsProfile;
  /** `undefined` keeps the CLI's default set; `[]` removes every tool. */
  tools?: readonly string[];
  allowedTools?: readonly string[];
  disallowedTools?: readonly string[];
  permissionMode?: PermissionMode;
}

export type Invocation = NoToolsInvocation | ToolsInvocation;
