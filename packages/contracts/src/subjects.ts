/**
 * Every NATS subject, stream and bucket name, versioned under `agent.v1`. Built by functions so
 * an id can never inject a wildcard or an extra token.
 */
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

export const subjects = {
  /** Request-reply endpoints of the executor's micro-service. */
  jobs: {
    submit: `${ROOT}.jobs.submit`,
    get: `${ROOT}.jobs.get`,
    cancel: `${ROOT}.jobs.cancel`,
    /** Live events of one job (core NATS, not durable). */
    events: (jobId: string) => `${ROOT}.jobs.${token(jobId)}.events`,
    allEvents: `${ROOT}.jobs.*.events`,
    /** Broadcast to every executor replica: whoever runs the job stops it. */
    cancelBroadcast: `${ROOT}.control.cancel`,
  },
  /** The durable queue: a work-queue stream consumed by every replica's pull consumer. */
  queue: {
    stream: "AGENT_JOBS",
    subject: `${ROOT}.queue.jobs`,
    consumer: "executor",
  },
  conversational: {
    turn: `${ROOT}.conversational.turn`,
  },
} as const;

export const buckets = {
  /** Job records, any replica reads any job. */
  jobs: "agent_jobs",
  /** Conversation id → CLI session. */
  conversations: "agent_conversations",
  /** CLI session transcripts of executor jobs, restored before `--resume` on another pod. */
  transcripts: "agent_transcripts",
  /** Transcripts of voice conversations (their TTL is the conversation idle TTL). */
  conversationTranscripts: "agent_conversation_transcripts",
  /** Caller policy counters: in-flight leases per caller. */
  policyInFlight: "agent_policy_inflight",
  /** Caller policy counters: requests per caller and minute. */
  policyRate: "agent_policy_rate",
  /** Caller policy counters: spend per caller and UTC day. */
  policySpend: "agent_policy_spend",
} as const;

export const services = {
  executor: { name: "agent-executor", version: "1.0.0" },
  conversational: { name: "agent-conversational", version: "1.0.0" },
} as const;
