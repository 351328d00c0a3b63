export { type ClaudeTestEnv, claudeTestEnv, realClaudeBin, realClaudeVersion } from "./claude-cli.js";
export {
  CLIENT_TOOL_PREFIX,
  callingClientTools,
  type ReceivedToolResult,
  toolResultsOf,
} from "./client-tools.js";
export { createTempRepo, type TempRepo, tempDir } from "./git.js";
export {
  apiError,
  DEFERRED_TOOL_PLACEHOLDER,
  type ImageBlock,
  imageBlocksOf,
  lastUserBlocks,
  lastUserText,
  type MessagesRequestBody,
  type MessagesStub,
  messagesText,
  offeredToolNames,
  promptTooLong,
  type RecordedRequest,
  STRUCTURED_OUTPUT_TOOL,
  type StubBlock,
  type StubHandler,
  type StubReply,
  startMessagesStub,
  streamGate,
  structuredOutput,
  systemText,
  text,
  toolUse,
} from "./messages-stub.js";
export {
  findNatsServerBin,
  type NatsServer,
  NatsServerNotFoundError,
  NatsServerStartError,
  type StartNatsServerOptions,
  startNatsServer,
} from "./nats-server.js";
export { writePlantedMcpServer } from "./planted-mcp.js";
export { type PermissivePolicyOptions, writePermissivePolicy } from "./policy-file.js";
export { descendantPids, eventually, killProcessesWithEnv, processesWithEnv } from "./processes.js";
export { type LogLine, type RecordingLogger, recordingLogger } from "./recording-logger.js";
export {
  AGENTS_DIR,
  createServiceWorld,
  IN_PROCESS,
  type Json,
  type ServiceWorld,
  type ServiceWorldOptions,
  serviceTestEnv,
  TEST_AUTH,
  TEST_LOG_LEVEL,
  TEST_METRICS_AUTH,
  TEST_METRICS_TOKEN,
  TEST_TOKEN,
} from "./service-harness.js";
