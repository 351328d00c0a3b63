export {
  type BuiltCommand,
  buildArgv,
  DEPLOYER_SETTINGS_ONLY,
  InvalidInvocationError,
  STRUCTURED_OUTPUT_TOOL,
} from "./argv.js";
export { isPlaceholderBinary, resolveClaudeBin } from "./bin.js";
export {
  buildChildEnv,
  type ChildEnvOptions,
  CLI_ENV_ALLOWLIST,
  CLI_ENV_DEFAULTS,
  RUN_MARKER_VAR,
} from "./child-env.js";
export {
  type ApiErrorKind,
  apiErrorKind,
  ClaudeApiError,
  ClaudeAuthError,
  ClaudeBudgetExceededError,
  ClaudeCancelledError,
  ClaudeCrashedError,
  ClaudeError,
  ClaudeExecutionError,
  ClaudeInvalidRequestError,
  ClaudeMaxTurnsError,
  ClaudeNotInstalledError,
  ClaudePromptTooLongError,
  ClaudeSessionNotFoundError,
  ClaudeStructuredOutputError,
  ClaudeTimeoutError,
} from "./errors.js";
export {
  AssistantEvent,
  type ClaudeEvent,
  ContentBlock,
  type MalformedLine,
  ModelUsage,
  type ParsedLine,
  PermissionDenial,
  RateLimitEvent,
  ResultEvent,
  StreamEvent,
  SystemApiRetryEvent,
  SystemInitEvent,
  type UnknownEvent,
  Usage,
  UserEvent,
} from "./events.js";
export type {
  AgentDefinition,
  InputFormat,
  Invocation,
  NoToolsInvocation,
  NoToolsProfile,
  OutputFormat,
  PermissionMode,
  SessionMode,
  ToolsInvocation,
  ToolsProfile,
} from "./invocation.js";
export { type LaunchExit, type Launched, type Launcher, type LaunchSpec, localLauncher } from "./launcher.js";
export { detectClaudeLogin, type LoginStatus, loginProblem } from "./login.js";
export { classifyOutcome, type Outcome, type ProcessEnd } from "./outcome.js";
export { parseJsonOutput, parseLine } from "./parse.js";
export { planState } from "./plan-state.js";
/** What a run left behind (tool commands in their own sessions), found by its marker variable and killed. */
export { pidsOfUid, reapRun, reapUid } from "./reaper.js";
export { type ClaudeRun, type RunOptions, type RunResult, runClaude } from "./runner.js";
export {
  claudeConfigDir,
  findTranscript,
  placeTranscriptLocally,
  projectDirName,
  transcriptPath,
} from "./sessions.js";
export { type ModelSpend, spendByModel, tokenUsage } from "./spend.js";
export { runStopper, type StoppableRun } from "./stop-run.js";
export {
  CLIENT_TOOL_PREFIX,
  CLIENT_TOOL_SERVER,
  type ClientTool,
  type ClientToolCall,
  type ClientToolResult,
  clientToolArgs,
  clientToolNameOf,
  clientToolNameProblem,
  MAX_CLIENT_TOOL_NAME,
  ToolHost,
  type ToolHostStep,
} from "./tool-host.js";
export {
  type FileSnapshot,
  sha256File,
  snapshotFile,
  type TranscriptBlobs,
  type TranscriptStore,
  transcriptStore,
  type WriteFileAtomicOptions,
  writeFileAtomic,
} from "./transcripts.js";
export {
  type ContentTextOptions,
  contentText,
  type PlanWindow,
  type RateLimitRunEvent,
  type RateLimitWindow,
  type RunEvent,
  translateLine,
} from "./translate.js";
export { perTurnResult } from "./turn-spend.js";
export { type ImageInput, type UserMessageLine, userMessage, userMessageInput } from "./user-message.js";
export { startWarm, type WarmOptions, type WarmProcess, type WarmState, type WarmTurn } from "./warm.js";
