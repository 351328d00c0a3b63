export { readableByOthers } from "./file-access.js";
export { type Isolation, type IsolationSetting, isolationMode } from "./mode.js";
export { type AgentSandboxes, openAgentSandbox, openRootSandbox, SandboxSetupError } from "./open.js";
export { runnerUserName, runnerUserProblem } from "./passwd.js";
export { type AgentSandbox, createAgentSandbox, type IsolationMode, type JobSandbox } from "./sandbox.js";
export { SECRET_FILE_VARS, secretFilesReadableByOthers } from "./secret-files.js";
export { ensureRunnerUsers, RunnerUserError } from "./users.js";
