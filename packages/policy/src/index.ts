export {
  capBudget,
  checkAccess,
  secondsUntilNextMinute,
  secondsUntilNextUtcDay,
  utcDay,
  utcMinute,
} from "./admission.js";
export {
  type AdmitRequest,
  type CounterBuckets,
  ensureCounterBuckets,
  natsPolicyCounters,
  type PolicyCounters,
  RATE_TTL_MS,
  SPEND_TTL_MS,
  type UsageSnapshot,
} from "./counters.js";
export {
  AgentNotAllowedError,
  DailyBudgetExceededError,
  ModelNotAllowedError,
  PlanLimitReachedError,
  RateLimitedError,
  TooManyInFlightError,
} from "./errors.js";
export { createPolicyGate, type PlanView, type PolicyGate, type Ticket, type UsageView } from "./gate.js";
export { loadPolicyFile, type PolicySource, parsePolicy, watchPolicy } from "./load.js";
export { registerPolicyMetrics } from "./metrics.js";
export {
  ensurePlanBucket,
  type NatsPlanStoreOptions,
  natsPlanStore,
  nextPlan,
  openPlanBucket,
  type PlanStore,
} from "./plan.js";
export { CallerPolicy, type EffectiveLimits } from "./policy.js";
export {
  BUILT_IN_DEFAULTS,
  type CallerEntry,
  CallerPolicyFile,
  Limits,
  principalOfKey,
} from "./schema.js";
export { usageHandler } from "./usage-route.js";
