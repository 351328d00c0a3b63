export {
  checkRepo,
  credentialsProblem,
  EMPTY_ALLOWLIST,
  parseRepoAllowlist,
  type RepoAllowlist,
  type RepoVerdict,
} from "./allowlist.js";
export { WorkspaceError, type WorkspaceErrorReason } from "./errors.js";
export type { Exec, ExecOptions, ExecResult } from "./exec.js";
export { execaExec } from "./exec.js";
export {
  createWorkspaceManager,
  MAX_PROJECT_FILE_BYTES,
  type Workspace,
  type WorkspaceJob,
  type WorkspaceLogger,
  type WorkspaceManager,
  type WorkspaceManagerOptions,
  type WorkspaceObserver,
} from "./manager.js";
export { workspaceMetrics } from "./metrics.js";
export { isValidJobId, refProblem } from "./names.js";
export type { RefCheck } from "./refs.js";
export { redactCredentials, repoUrlProblem } from "./repo-url.js";
