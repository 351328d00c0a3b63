export { ConfigError, LOG_LEVELS, loadServiceConfig, type ServiceConfig } from "./config.js";
export {
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
export { createLogger, REDACTED_PATHS } from "./logger.js";
export { createServiceMetrics, type ModelSpend, type ServiceMetrics } from "./metrics.js";
