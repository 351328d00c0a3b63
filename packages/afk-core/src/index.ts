export { type ChecklistOptions, renderChecklist } from "./checklist.js";
export { summariseChecks } from "./ci.js";
export {
  type AfkConfig,
  AfkEnv,
  ConfigError,
  type DisarmedConfig,
  describeConfig,
  type Labels,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
  parseAllowlist,
  parseStallByPhase,
} from "./config.js";
export { dispatchId, dispatchKey } from "./dispatch-ids.js";
export {
  compareIssues,
  type DispatchInput,
  type DispatchPlan,
  type SkipReason,
  selectDispatchable,
} from "./dispatch-policy.js";
export {
  DEFINITION_OF_DONE,
  fixForwardPrompt,
  IMPLEMENTER_PREAMBLE,
  implementerPrompt,
} from "./implementer-prompt.js";
export { messagesAfter, threadLiveness } from "./liveness.js";
export {
  decodeMarker,
  encodeMarker,
  hasMarker,
  latestMarker,
  MarkerDecodeError,
  RunMarkerSchema,
} from "./marker.js";
export { observeThread } from "./observe.js";
export { DEFAULT_PRIORITY, priorityFromLabels } from "./priority.js";
export { findQueueStalls, type Lock, type QueueStall } from "./queue-stall.js";
export { parseReports, REPORT_LINES } from "./reports.js";
export {
  currentSha,
  derivePhase,
  isFinished,
  markDone,
  markEscalated,
  markFixForward,
  newRunMarker,
  nextAction,
  progressMarker,
} from "./run-machine.js";
export { type T3OutageInput, type T3OutageStep, t3OutageStep, withT3Outage } from "./t3-outage.js";
export {
  type Action,
  type AgentReports,
  type Check,
  type CiSummary,
  type Issue,
  isTerminal,
  type Liveness,
  type LivenessState,
  laterPhase,
  type Observation,
  type Phase,
  PROGRESS_PHASES,
  type Priority,
  type ProgressPhase,
  phaseRank,
  type Run,
  type RunLimits,
  type RunMarker,
  type RunState,
  type SentTurn,
  type T3Outage,
  TERMINAL_PHASES,
  type ThreadView,
} from "./types.js";
export { normaliseRoot, workspaceRootFor, workspaceTemplateProblems } from "./workspace-root.js";
