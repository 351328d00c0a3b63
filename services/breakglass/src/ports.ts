import type { ParsedLine, RunResult } from "@claude-gateway/claude";
import type { Verb } from "./core/verbs.js";
import type { VerbResult } from "./core/wire.js";

/** The CLI's `can_use_tool` request: a tool call no allow rule covers. */
export interface ToolPermissionRequest {
  toolName: string;
  input: unknown;
}

/** How the CLI is answered: allow runs the call as asked; deny gives the agent `message`. */
export type ToolPermissionAnswer = { behavior: "allow" } | { behavior: "deny"; message: string };

export interface TurnRequest {
  /** The CLI session: `--session-id` when `resume` is false, `--resume` when true. */
  sessionId: string;
  resume: boolean;
  prompt: string;
  signal: AbortSignal;
  /** Every stream-json line, in order. */
  onLine: (line: ParsedLine) => void;
  /** Decides each tool call the CLI asks about (`--permission-prompt-tool stdio`). */
  canUseTool: (req: ToolPermissionRequest) => Promise<ToolPermissionAnswer>;
}

/** Runs the breakglass agent, one turn per call (the real CLI in production). */
export interface ClaudeTurns {
  /** Resolves with the CLI's result; rejects with a `ClaudeError`. */
  run(req: TurnRequest): Promise<RunResult>;
  /** Whether the CLI has recorded this session (decides `--session-id` vs `--resume`). */
  hasTranscript(sessionId: string): Promise<boolean>;
  /** The model turns run on, for metrics when the CLI reports none. */
  readonly model: string;
}

/** Runs one power verb on the Proxmox host (ssh to its forced command in production). */
export interface PveRunner {
  run(verb: Verb): Promise<Omit<VerbResult, "vmid">>;
}
