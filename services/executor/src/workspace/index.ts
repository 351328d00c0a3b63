export { WorkspaceError, type WorkspaceErrorReason } from "./errors.js";
export type { Exec, ExecOptions, ExecResult } from "./exec.js";
export { execaExec } from "./exec.js";
export {
  createWorkspaceManager,
  type Workspace,
  type WorkspaceJob,
  type WorkspaceLogger,
  type WorkspaceManager,
  type WorkspaceManagerOptions,
} from "./manager.js";
export { isValidJobId } from "./names.js";
export { redactCredentials, repoUrlProblem } from "./repo-url.js";
