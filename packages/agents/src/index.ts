export {
  AgentFileError,
  type AgentFileProblem,
  AgentsDirError,
  UnknownAgentError,
} from "./errors.js";
export { findAgentsDir } from "./find-dir.js";
export { type AgentInvocationOptions, agentInvocation } from "./invocation.js";
export { loadAgents } from "./load.js";
export { parseAgentFile } from "./parse.js";
export { AgentRegistry } from "./registry.js";
export { AGENT_NAME, AgentFrontmatter, PERMISSION_MODES } from "./schema.js";
export type {
  AgentPermissions,
  AgentSpec,
  NoToolsPermissionMode,
  NoToolsPermissions,
  ToolsPermissions,
} from "./spec.js";
