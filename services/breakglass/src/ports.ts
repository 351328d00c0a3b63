import type { ParsedLine, RunResult } from "@claude-gateway/claude";
import type { Verb } from "./core/verbs.js";
import type { VerbResult } from "./core/wire.js";

export interface TurnRequest {
  /** The CLI session: `--session-id` when `resume` is false, `--resume` when true. */
  sessionId: string;
  resume: boolean;
  prompt: string;
  signal: AbortSignal;
  /** Every stream-json line, in order. */
  onLine: (line: ParsedLine) => void;
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
