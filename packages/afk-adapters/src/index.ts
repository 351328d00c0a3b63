export { createForgejoChecks } from "./ci/forgejo.js";
export { createGithubChecks } from "./ci/github.js";
export type { CommitChecks } from "./ci/port.js";
export { type AdapterFactory, type AdapterIo, type Adapters, createAdapters } from "./create-adapters.js";
export {
  AdapterError,
  AdapterPreconditionError,
  type System,
  T3ThreadUnreadableError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamNotJsonError,
  UpstreamUnreachableError,
} from "./errors.js";
export type { Fetch } from "./http.js";
export {
  type Alert,
  alertMessage,
  createSlackDoorbell,
  type Doorbell,
  SlackMessage,
} from "./notify/slack.js";
export { type RunIo, type RunResult, runTick, type TickLogger, type TickSpec } from "./run-tick.js";
export {
  baselineTurnId,
  createT3Client,
  type ModelChoice,
  type StartedRun,
  type StartRunInput,
  type T3Client,
  type T3ClientOptions,
  type T3Dispatch,
  type T3Threads,
} from "./t3/client.js";
export {
  Command,
  DispatchReceipt,
  ReadModel,
  Thread,
  ThreadDetail,
  type ThreadReading,
} from "./t3/schemas.js";
export { createForgejoTracker, type ForgejoOptions } from "./tracker/forgejo.js";
export { createGithubTracker, type GithubOptions } from "./tracker/github.js";
export type {
  IssueCloser,
  IssueComment,
  IssueComments,
  IssueLabels,
  IssueQueries,
  TrackedIssue,
  Tracker,
} from "./tracker/port.js";
