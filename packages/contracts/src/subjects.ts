/**
 * Every NATS subject, stream and bucket name, versioned under `agent.v1`. Built by functions so
 * an id can never inject a wildcard or an extra token.
 */
import { PrincipalId } from "./principal.js";

export const API_VERSION = "v1";
const ROOT = `agent.${API_VERSION}`;

/** Ids that become subject tokens: letters, digits, `_` and `-` only. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export class InvalidSubjectTokenError extends Error {
  override readonly name = "InvalidSubjectTokenError";
}

function token(value: string): string {
  if (!SUBJECT_TOKEN.test(value)) throw new InvalidSubjectTokenError(`'${value}' cannot be a subject token`);
  return value;
}

/** A principal as a subject token (it is one by construction; checked so a wrong value never routes). */
function principalToken(principal: string): string {
  if (!PrincipalId.safeParse(principal).success) {
    throw new InvalidSubjectTokenError(`'${principal}' is not a principal`);
  }
  return principal;
}

/**
 * The subject layout. Every family has its own fixed third token (`jobs.submit`, `jobs.events`, …)
 * and names the principal it acts for in the fourth, so a NATS permission can say "only your own"
 * (`agent.v1.jobs.submit.nats_billing`, `agent.v1.jobs.events.nats_billing.>`) and no caller name
 * or job id can ever make two families meet. The request subjects' principal is the caller: the
 * services read it from the subject, never from the payload (see the README's bus section).
 */
export const subjects = {
  /** Request-reply endpoints of the executor's micro-service; the last token is the caller. */
  jobs: {
    submit: (principal: string) => `${ROOT}.jobs.submit.${principalToken(principal)}`,
    /**
     * Submissions the caller policy has already admitted (the gateway checked and counted the
     * caller it authenticated): only the gateway's NATS user may publish here.
     */
    admit: (principal: string) => `${ROOT}.jobs.admit.${principalToken(principal)}`,
    get: (principal: string) => `${ROOT}.jobs.get.${principalToken(principal)}`,
    cancel: (principal: string) => `${ROOT}.jobs.cancel.${principalToken(principal)}`,
    /** Results for a job paused on the model's calls of the caller's tools (`ToolResults`). */
    tools: (principal: string) => `${ROOT}.jobs.tools.${principalToken(principal)}`,
    /**
     * Results forwarded by the replica that took them to the one that holds the job's process
     * (only executors publish and subscribe here).
     */
    toolsAt: (executorId: string) => `${ROOT}.control.tools.${token(executorId)}`,
    /** What the executor's endpoints listen on (one per family, any principal). */
    serve: {
      submit: `${ROOT}.jobs.submit.*`,
      admit: `${ROOT}.jobs.admit.*`,
      get: `${ROOT}.jobs.get.*`,
      cancel: `${ROOT}.jobs.cancel.*`,
      tools: `${ROOT}.jobs.tools.*`,
    },
    /** Live events of one job (core NATS, not durable); only the executor publishes them. */
    events: (principal: string, jobId: string) =>
      `${ROOT}.jobs.events.${principalToken(principal)}.${token(jobId)}`,
    /** Every event of one principal's jobs (a caller's subscribe permission). */
    principalEvents: (principal: string) => `${ROOT}.jobs.events.${principalToken(principal)}.>`,
    allEvents: `${ROOT}.jobs.events.>`,
    /** Broadcast to every executor replica: whoever runs the job stops it. */
    cancelBroadcast: `${ROOT}.control.cancel`,
  },
  /** Control messages between a service's own replicas. */
  control: `${ROOT}.control.>`,
  /** The durable queue: a work-queue stream consumed by every replica's pull consumer. */
  queue: {
    stream: "AGENT_JOBS",
    subject: `${ROOT}.queue.jobs`,
    consumer: "executor",
  },
  conversational: {
    /** A turn for the caller the last token names. */
    turn: (principal: string) => `${ROOT}.conversational.turn.${principalToken(principal)}`,
    serveTurn: `${ROOT}.conversational.turn.*`,
    /**
     * Reserved for one replica's own requests (a turn forwarded to the replica that holds the
     * conversation's warm process, several replies per request); only conversational uses it.
     */
    replica: (replicaId: string) => `${ROOT}.conversational.replica.${token(replicaId)}`,
    allReplicas: `${ROOT}.conversational.replica.>`,
    /** Where a replica takes turns forwarded to it (`ForwardedTurn`). */
    forwardTo: (replicaId: string) => `${ROOT}.conversational.replica.${token(replicaId)}.turn`,
    /** Where the owner sends the events of a turn forwarded by `replicaId` (`ForwardedEvent`). */
    forwardEvents: (replicaId: string, forwardId: string) =>
      `${ROOT}.conversational.replica.${token(replicaId)}.events.${token(forwardId)}`,
  },
} as const;

/** The principal a request subject of one of the families above is for (its fourth token). */
export function principalOfSubject(subject: string): string | undefined {
  const parts = subject.split(".");
  const principal = parts[4];
  if (parts.length !== 5 || parts[0] !== "agent" || parts[1] !== API_VERSION) return undefined;
  return principal !== undefined && PrincipalId.safeParse(principal).success ? principal : undefined;
}

export const buckets = {
  /** Job records, any replica reads any job. */
  jobs: "agent_jobs",
  /** Conversation id → CLI session. */
  conversations: "agent_conversations",
  /** CLI session transcripts of executor jobs, restored before `--resume` on another pod. */
  transcripts: "agent_transcripts",
  /** Prompts and replies of jobs too large for a record (a record names them; the jobs' TTL). */
  jobPayloads: "agent_job_payloads",
  /** Transcripts of voice conversations (their TTL is the conversation idle TTL). */
  conversationTranscripts: "agent_conversation_transcripts",
  /** Caller policy counters: in-flight leases per caller. */
  policyInFlight: "agent_policy_inflight",
  /** Caller policy counters: requests per caller and minute. */
  policyRate: "agent_policy_rate",
  /** Caller policy counters: spend per caller and UTC day. */
  policySpend: "agent_policy_spend",
  /**
   * The subscription plan's utilisation, one key (`PLAN_KEY`, a `PlanState`): written by the
   * services that run the CLI, read by every service that admits requests.
   */
  plan: "agent_plan",
} as const;

export const services = {
  executor: { name: "agent-executor", version: "1.0.0" },
  conversational: { name: "agent-conversational", version: "1.0.0" },
} as const;
