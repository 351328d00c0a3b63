import { type AgentSpec, agentInvocation } from "@claude-gateway/agents";
import type { Invocation, NoToolsInvocation, SessionMode } from "@claude-gateway/claude";
import {
  type ConversationalRequest,
  type Language,
  languageOfTag,
  type ModelPolicy,
  resolveModel,
} from "@claude-gateway/contracts";
import { UnsafeAgentError } from "../errors.js";
import type { ConversationRecord } from "./record.js";

/** One turn as the caller asked for it (HTTP body or NATS request, already schema-checked). */
export interface TurnRequest {
  conversationId?: string | undefined;
  message: string;
  language?: Language | undefined;
  model?: string | undefined;
}

/** The wire request (HTTP body or NATS payload) as a turn request; `caller` is the edge's to check. */
export function fromWire(req: ConversationalRequest): TurnRequest {
  return {
    message: req.message,
    ...(req.conversation_id !== undefined ? { conversationId: req.conversation_id } : {}),
    ...(req.language !== undefined ? { language: languageOfTag(req.language) } : {}),
    ...(req.model !== undefined ? { model: req.model } : {}),
  };
}

/** Everything the turn needs to run: decided before any process starts. */
export interface TurnPlan {
  conversationId: string;
  sessionId: string;
  kind: "new" | "resume";
  model: string;
  invocation: NoToolsInvocation;
  /** Goes to the CLI's stdin. */
  prompt: string;
}

export interface PlanInput {
  request: TurnRequest;
  /**
   * The caller's stored conversation, or null: the request names none, or one unknown for this
   * caller (which then starts under the id the caller minted).
   */
  stored: ConversationRecord | null;
  agent: AgentSpec;
  models: ModelPolicy;
  /** Mints conversation and session ids (UUIDs). */
  mintId: () => string;
  /** A new conversation's session when a prewarmed process, started under it, will run the turn. */
  pooledSessionId?: string | undefined;
}

/**
 * A request and the stored conversation → the CLI invocation. A stored conversation resumes its
 * session; otherwise a new session starts, under the conversation id the caller minted or a new
 * one. The invocation is always the no-tools profile. Whose conversation it is, the caller of
 * `planTurn` has checked.
 */
export function planTurn(input: PlanInput): TurnPlan {
  const { request, stored } = input;
  if (stored && request.conversationId !== stored.conversationId) {
    throw new Error(`stored conversation ${stored.conversationId} does not match ${request.conversationId}`);
  }
  const model = chooseModel(input.models, request.model, stored?.model, input.agent.model);
  const conversationId = stored?.conversationId ?? request.conversationId ?? input.mintId();
  const sessionId = stored?.sessionId ?? input.pooledSessionId ?? input.mintId();
  return {
    conversationId,
    sessionId,
    kind: stored ? "resume" : "new",
    model,
    invocation: turnInvocation(
      input.agent,
      stored ? { kind: "resume", id: sessionId } : { kind: "new", id: sessionId },
      model,
    ),
    prompt: withLanguage(request.message, request.language),
  };
}

/**
 * The CLI invocation of a conversation's process: the agent, the session and the model, nothing
 * per turn (the language travels with the message), so one warm process serves every turn.
 */
export function turnInvocation(agent: AgentSpec, session: SessionMode, model: string): NoToolsInvocation {
  return requireNoTools(
    agentInvocation(agent, { session, output: "stream-json", includePartialMessages: true, model }),
  );
}

/**
 * The message as the CLI gets it: speech recognition's language, when given, as a tagged note in
 * front of the user's words (the agent's prompt says how to read it). In the message rather than
 * the system prompt, so a warm process, whose system prompt is fixed at its start, keeps serving a
 * conversation that switches language; the note stays in the history with its message.
 */
export function withLanguage(message: string, language: Language | undefined): string {
  if (language === undefined) return message;
  return `<speech-recognition language="${language}">${languageInstruction(language)}</speech-recognition>\n\n${message}`;
}

/**
 * The model of a turn: the one asked for (checked against the allowlist: a 400 if not allowed);
 * else the conversation's, then the agent's, while the allowlist still has them; else the default.
 */
export function chooseModel(
  policy: ModelPolicy,
  requested: string | undefined,
  conversationModel: string | undefined,
  agentModel: string | undefined,
): string {
  if (requested !== undefined) return resolveModel(policy, requested);
  for (const candidate of [conversationModel, agentModel]) {
    if (candidate !== undefined && policy.supported.includes(candidate)) return candidate;
  }
  return policy.defaultModel;
}

/** The speech recogniser's language for this message; the agent's prompt covers the rest. */
export function languageInstruction(language: Language): string {
  return language === "bg"
    ? "Speech recognition heard Bulgarian in the user's latest message: reply in Bulgarian, written in Cyrillic."
    : "Speech recognition heard English in the user's latest message: reply in English.";
}

/** The agent can execute nothing: anything but the no-tools profile is refused. */
export function requireNoTools(invocation: Invocation): NoToolsInvocation {
  if (!isNoTools(invocation)) {
    throw new UnsafeAgentError("the conversational agent must use the no-tools profile");
  }
  if (invocation.tools !== undefined && invocation.tools.length > 0) {
    throw new UnsafeAgentError("the conversational agent must offer no tools");
  }
  return invocation;
}

function isNoTools(invocation: Invocation): invocation is NoToolsInvocation {
  return invocation.profile.kind === "no-tools";
}

/** Start-up check of the agent file, so a bad one stops the service instead of every turn. */
export function checkAgent(spec: AgentSpec): void {
  if (spec.permissions.profile !== "no-tools") {
    throw new UnsafeAgentError(
      `agent '${spec.name}' (${spec.file}) must declare permissions.profile: no-tools: the conversational service executes nothing`,
    );
  }
}
