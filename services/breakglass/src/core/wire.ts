/**
 * Everything that crosses the wire between the server and the web UI. The UI imports these as
 * types only, so there is one definition of the SSE vocabulary and of the JSON bodies.
 */

import type { ErrorEnvelope } from "@claude-gateway/service-kit/errors";
import type { Risk } from "./command-gate.js";
import type { Verb } from "./verbs.js";

export type { Risk };

/** How an operator's prompt ended. */
export type PermissionDecision = "allow" | "deny" | "timeout" | "cancelled";

/** A chat turn's server-sent events: `event:` is the `type`, `data:` the JSON of the whole object. */
export type ChatEvent =
  /** First event of every turn: which CLI session it runs in, and whether it resumed one. */
  | { type: "session"; sessionId: string; resumed: boolean }
  /** Live text of the agent, as it arrives. */
  | { type: "text"; delta: string }
  /** A tool call as the agent made it. */
  | { type: "tool"; phase: "call"; id: string; name: string; input: unknown }
  /** What the tool answered (clipped for the UI; the agent saw all of it). */
  | {
      type: "tool";
      phase: "result";
      id: string;
      name: string | null;
      output: string;
      isError: boolean;
      truncated: boolean;
    }
  /** The CLI's result line: what the turn cost and how long it took. */
  | {
      type: "result";
      isError: boolean;
      costUsd: number;
      durationMs: number;
      numTurns: number;
      inputTokens: number;
      outputTokens: number;
      permissionDenials: Array<{ tool: string; input: unknown }>;
    }
  /**
   * The turn failed: the error envelope (`error` a stable code: `cancelled`, `timeout`,
   * `upstream_error`, …; `detail` one line), and whether the same message may succeed later.
   */
  | ({ type: "error"; retryable: boolean } & ErrorEnvelope)
  /**
   * The agent wants to run a command that is not read-only: the operator allows or denies it with
   * `POST /api/sessions/:id/permissions/:permissionId`. No answer by `expiresAt` is a deny.
   */
  | { type: "permission"; id: string; command: string; risk: Risk; expiresAt: string }
  /** A prompt was answered (or timed out, or the turn ended first). */
  | {
      type: "permission_decision";
      id: string;
      decision: PermissionDecision;
      /** Who answered; null for a timeout or a cancelled turn. */
      by: string | null;
      note?: string;
    }
  /** Always the last event of a turn. */
  | { type: "done" };

export type ChatEventType = ChatEvent["type"];

export interface ToolSummary {
  id: string;
  name: string;
  input: unknown;
  output?: string;
  isError?: boolean;
  truncated?: boolean;
}

export interface PermissionSummary {
  id: string;
  command: string;
  risk: Risk;
  expiresAt: string;
  /** Absent while the operator has not answered. */
  decision?: PermissionDecision;
  by?: string | null;
  note?: string;
}

/** What the assistant said and did, in order: text between tool calls stays where it was said. */
export type AssistantPart =
  | { type: "text"; text: string }
  | { type: "tool"; tool: ToolSummary }
  | { type: "permission"; permission: PermissionSummary };

export type HistoryEntry =
  | { role: "user"; text: string; at: string }
  | {
      role: "assistant";
      parts: AssistantPart[];
      at: string;
      /** Why the turn failed: its `error` event's code and detail. */
      error?: Pick<ErrorEnvelope, "error" | "detail">;
      costUsd?: number;
      durationMs?: number;
      /** False while the turn runs. */
      complete: boolean;
    };

/** `GET /api/sessions/:id` and `POST /api/sessions`. */
export interface SessionView {
  id: string;
  createdAt: string;
  updatedAt: string;
  /** True while a turn runs; attach with `GET /api/sessions/:id/current`. */
  running: boolean;
  /** The sequence number of the last event of the running (or last) turn, -1 if none. */
  lastSeq: number;
  history: HistoryEntry[];
}

/** `POST /api/vm/:verb`. */
export interface VerbResult {
  verb: Verb;
  vmid: number;
  ok: boolean;
  /** The exit status of ssh (the forced command's own status when it ran; 255 for ssh errors). */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
  truncated: boolean;
  startedAt: string;
  durationMs: number;
}

/** `POST /api/sessions/:id/permissions/:permissionId`. */
export interface PermissionAnswer {
  decision: "allow" | "deny";
  /** Goes to the agent with a deny. */
  note?: string;
}

/** `GET /api/vm`. */
export interface VmInfo {
  vmid: number;
  available: boolean;
  /** Why the verbs answer 503, when they do. */
  reason?: string;
  verbs: readonly Verb[];
  mutating: readonly Verb[];
  /** Verbs running now. */
  running: Verb[];
  /** The last results, newest first. */
  recent: Array<Omit<VerbResult, "output"> & { caller: string }>;
}

/**
 * Every error answer (and a verb's body when it fails after its stream started): the services'
 * error envelope `{ error, detail, retry_after_seconds?, issues? }`.
 */
export type ErrorBody = ErrorEnvelope;
