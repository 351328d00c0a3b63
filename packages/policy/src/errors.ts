import { ServiceError } from "@claude-gateway/service-kit";

/** The caller's policy does not list the agent: 403, naming what it may run. */
export class AgentNotAllowedError extends ServiceError {
  override name = "AgentNotAllowedError";
  constructor(
    readonly agent: string,
    readonly allowed: readonly string[],
  ) {
    super(403, "agent_not_allowed", `agent '${agent}' is not allowed for you; allowed: ${list(allowed)}`);
  }
}

/** The caller's policy does not list the model: 403, naming what it may use. */
export class ModelNotAllowedError extends ServiceError {
  override name = "ModelNotAllowedError";
  constructor(
    readonly model: string,
    readonly allowed: readonly string[],
  ) {
    super(403, "model_not_allowed", `model '${model}' is not allowed for you; allowed: ${list(allowed)}`);
  }
}

/** More requests this minute than the policy allows: 429 until the minute ends. */
export class RateLimitedError extends ServiceError {
  override name = "RateLimitedError";
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      429,
      "rate_limited",
      `more than ${limit} requests this minute; retry after ${retryAfterSeconds} s`,
      {
        retryAfterSeconds,
      },
    );
  }
}

/** As many jobs or turns running and waiting as the policy allows: 429. */
export class TooManyInFlightError extends ServiceError {
  override name = "TooManyInFlightError";
  constructor(limit: number, retryAfterSeconds: number) {
    super(
      429,
      "too_many_in_flight",
      `${limit} of your requests are running or waiting, your limit; retry after ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** Today's spend reached the caller's daily budget: 429 until the UTC day ends. */
export class DailyBudgetExceededError extends ServiceError {
  override name = "DailyBudgetExceededError";
  constructor(spentUsd: number, budgetUsd: number, retryAfterSeconds: number) {
    super(
      429,
      "daily_budget_exceeded",
      `today's spend $${spentUsd.toFixed(4)} reached your daily budget of $${budgetUsd}; it resets at 00:00 UTC`,
      { retryAfterSeconds },
    );
  }
}

/**
 * The subscription plan every request spends is at its usage limit: 429 until the window that
 * stopped it resets. Not the caller's limit: every caller is refused alike.
 */
export class PlanLimitReachedError extends ServiceError {
  override name = "PlanLimitReachedError";
  constructor(
    /** The window whose reset ends the refusal (`five_hour`, `seven_day`, …), if the API named it. */
    readonly window: string | undefined,
    /** Unix seconds. */
    readonly resetsAt: number,
    retryAfterSeconds: number,
  ) {
    super(
      429,
      "plan_limit_reached",
      `the Claude subscription's ${windowName(window)} usage limit is reached; it resets at ${new Date(
        resetsAt * 1000,
      ).toISOString()} (retry after ${retryAfterSeconds} s)`,
      { retryAfterSeconds },
    );
  }
}

const WINDOW_NAMES: Record<string, string> = {
  five_hour: "5-hour",
  seven_day: "7-day",
  seven_day_overage_included: "7-day (extra usage included)",
  overage: "extra usage",
};

function windowName(window: string | undefined): string {
  return window === undefined ? "plan" : (WINDOW_NAMES[window] ?? window);
}

function list(xs: readonly string[]): string {
  return xs.length === 0 ? "(none)" : xs.join(", ");
}
