export { ConfigError, LOG_LEVELS, loadServiceConfig, type ServiceConfig } from "./config.js";
export {
  BadRequestError,
  type ErrorEnvelope,
  type ErrorIssue,
  errorBody,
  oneLine,
  ServiceError,
  type ServiceErrorOptions,
  toServiceError,
} from "./errors.js";
export {
  operationalRoutes,
  type Readiness,
  type RequestVariables,
  readJsonBody,
  requestContext,
  routeNotFound,
  sendError,
  serviceErrorHandler,
} from "./http.js";
export {
  type Listening,
  listen,
  type RunningService,
  readinessOf,
  type StartOptions,
  settlesWithin,
} from "./lifecycle.js";
export { type Logger, silentLogger } from "./log.js";
export { createLogger, REDACTED_PATHS } from "./logger.js";
export { isJsonMediaType } from "./media-type.js";
export { createServiceMetrics, type ModelSpend, type ServiceMetrics } from "./metrics.js";
export { loadMetricsToken, metricsGuard, type ReadTextFile } from "./metrics-access.js";
