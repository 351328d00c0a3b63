export type { BusPermissions, BusService, BusUser, NatsServerConfigOptions } from "./bus.js";
export {
  BUS_SERVICES,
  BusSourceError,
  busUsers,
  callerPermissions,
  inboxPrefixOf,
  passwordVariable,
  renderNatsServerConfig,
  serviceUser,
} from "./bus.js";
export {
  ConversationalReply,
  ConversationalRequest,
  ConversationId,
  ForwardAccepted,
  ForwardedEvent,
  ForwardedTurn,
  Language,
  LanguageTag,
  languageOfTag,
} from "./conversational.js";
export { ErrorEnvelope, ErrorIssue, issuesOf } from "./errors.js";
export {
  CancelBroadcast,
  isTerminal,
  JobFailureReason,
  JobId,
  JobList,
  JobRecord,
  JobRef,
  JobReply,
  JobResult,
  JobSession,
  JobStatus,
  JobSubmission,
  jobIdFor,
  MAX_PROMPT_CHARS,
  MAX_TIMEOUT_SECONDS,
  PAYLOAD_PREVIEW_CHARS,
  PayloadRef,
  payloadObjects,
  previewOf,
  QueueMessage,
  SubmitReply,
  TERMINAL_STATUSES,
  TokenUsage,
} from "./job.js";
export { JobEvent, type JobEventType } from "./job-events.js";
export {
  DEFAULT_MODEL,
  DEFAULT_SUPPORTED_MODELS,
  loadModelPolicy,
  ModelNotSupportedError,
  type ModelPolicy,
  resolveModel,
} from "./models.js";
export {
  PRINCIPAL_KINDS,
  PrincipalId,
  type PrincipalKind,
  parsePrincipalId,
  principalId,
} from "./principal.js";
export {
  API_VERSION,
  buckets,
  InvalidSubjectTokenError,
  principalOfSubject,
  SUBJECT_TOKEN,
  services,
  subjects,
} from "./subjects.js";
