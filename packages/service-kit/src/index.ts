export { ConfigError, LOG_LEVELS, loadServiceConfig, type ServiceConfig } from "./config.js";
export { operationalRoutes, type Readiness, type RequestVariables, requestContext } from "./http.js";
export { createLogger, REDACTED_PATHS } from "./logger.js";
export { createServiceMetrics, type ModelSpend, type ServiceMetrics } from "./metrics.js";
