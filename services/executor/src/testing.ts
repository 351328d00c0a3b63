// For other services' integration tests: a real executor in-process, wired to real NATS and the CLI.
export { ConfigError, type ExecutorConfig, loadConfig } from "./config.js";
export { type RunningExecutor, startExecutor } from "./start.js";
