import { subjects } from "@claude-gateway/contracts";
import {
  KvUpdateConflictError,
  RemoteServiceError,
  RequestFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
} from "@claude-gateway/nats";
import {
  AgentNotAllowedError,
  DailyBudgetExceededError,
  ModelNotAllowedError,
  PlanLimitReachedError,
  RateLimitedError,
  TooManyInFlightError,
} from "@claude-gateway/policy";
import { describe, expect, it } from "vitest";
import { failedJob } from "../test-support/records.js";
import {
  type CallerLimitError,
  firstLine,
  fromAuthFailure,
  fromFinishedJob,
  type GatewayError,
  InvalidRequestError,
  JobFailedError,
  PlanLimitError,
  QueueFullError,
  toClientError,
} from "./errors.js";

/** What `request` throws for an error envelope from the executor. */
const remote = (status: number, code: string, detail: string, retryAfterSeconds?: number) =>
  new RemoteServiceError(
    subjects.jobs.serve.admit,
    status,
    code,
    detail,
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  );

/** What the client gets when the executor is unavailable or failed: a 503 `api_error`. */
const unavailable = (code: string) => ({ status: 503, type: "api_error", code });

describe("toClientError", () => {
  it.each<
    [
      string,
      unknown,
      {
        status: number;
        type: string;
        code: string | null;
        param?: string | null;
        retryAfterSeconds?: number;
      },
    ]
  >([
    [
      "a full queue",
      remote(429, "queue_full", "the queue holds 4 jobs, its limit; retry after 30 s", 30),
      { status: 429, type: "requests", code: "rate_limit_exceeded" },
    ],
    [
      "an unknown model",
      remote(400, "model_not_supported", "model 'x' is not supported; supported models: a, b"),
      { status: 400, type: "invalid_request_error", code: "model_not_found", param: "model" },
    ],
    [
      "any other refusal",
      remote(400, "unknown_agent", "unknown agent 'x'; agents: general"),
      { status: 400, type: "invalid_request_error", code: "job_rejected" },
    ],
    // The gateway only reads its own jobs for this caller: a 404 is the executor losing one.
    ["a vanished job", remote(404, "job_not_found", "no job x"), unavailable("job_not_found")],
    [
      "the policy's agent refusal",
      new AgentNotAllowedError("general", ["assistant"]),
      { status: 403, type: "request_forbidden", code: "agent_not_allowed", param: null },
    ],
    [
      "the policy's model refusal",
      new ModelNotAllowedError("claude-opus-4-7", ["claude-haiku-4-5"]),
      { status: 403, type: "request_forbidden", code: "model_not_allowed", param: "model" },
    ],
    [
      "the executor's own agent refusal",
      remote(403, "agent_not_allowed", "agent 'general' is not allowed for you; allowed: assistant"),
      { status: 403, type: "request_forbidden", code: "agent_not_allowed" },
    ],
    [
      "a rate limit",
      new RateLimitedError(30, 12),
      { status: 429, type: "requests", code: "rate_limited", retryAfterSeconds: 12 },
    ],
    [
      "an in-flight limit",
      new TooManyInFlightError(2, 5),
      { status: 429, type: "requests", code: "too_many_in_flight", retryAfterSeconds: 5 },
    ],
    [
      "a spent day",
      new DailyBudgetExceededError(2.5, 2, 3600),
      { status: 429, type: "insufficient_quota", code: "daily_budget_exceeded", retryAfterSeconds: 3600 },
    ],
    [
      "the executor's own rate limit (not its queue)",
      remote(429, "rate_limited", "more than 30 requests this minute; retry after 7 s", 7),
      { status: 429, type: "requests", code: "rate_limited", retryAfterSeconds: 7 },
    ],
    [
      "the caller's counters contended by its own burst",
      new KvUpdateConflictError("agent_policy_inflight", "tok_tester", 30),
      { status: 429, type: "requests", code: "too_many_concurrent_requests", retryAfterSeconds: 1 },
    ],
    ["an executor failure", remote(500, "internal", "internal error"), unavailable("executor_error")],
    [
      "its own 503",
      remote(503, "queue_unavailable", "the job queue did not accept the job"),
      unavailable("executor_error"),
    ],
    [
      "no responders",
      new ServiceUnavailableError(subjects.jobs.serve.admit),
      unavailable("executor_unavailable"),
    ],
    [
      "a closed connection",
      new RequestFailedError(subjects.jobs.serve.admit),
      unavailable("executor_unavailable"),
    ],
    [
      "no reply in time",
      new RequestTimeoutError(subjects.jobs.serve.admit, 10),
      unavailable("executor_timeout"),
    ],
  ])("%s", (_name, err, expected) => {
    const mapped = toClientError(err);
    expect(mapped).toMatchObject(expected);
    expect(mapped?.body().error.message).not.toMatch(/\n/);
  });

  it("keeps the queue's Retry-After from the envelope, never from the text", () => {
    const mapped = toClientError(remote(429, "queue_full", "full; retry after 99 s", 12));
    expect(mapped).toBeInstanceOf(QueueFullError);
    expect((mapped as QueueFullError).retryAfterSeconds).toBe(12);
    const noHint = toClientError(remote(429, "queue_full", "full; retry after 99 s"));
    expect((noHint as QueueFullError).retryAfterSeconds).toBe(30);
  });

  it("tells SDKs not to retry a spent day, and to retry the other limits", () => {
    expect((toClientError(new DailyBudgetExceededError(2, 2, 60)) as CallerLimitError).worthRetrying).toBe(
      false,
    );
    expect((toClientError(new RateLimitedError(30, 12)) as CallerLimitError).worthRetrying).toBe(true);
  });

  it("the plan at its limit: 429 insufficient_quota with its Retry-After, retried by SDKs only within a minute", () => {
    const hours = toClientError(new PlanLimitReachedError("five_hour", 1_800_003_600, 3600));
    expect(hours).toBeInstanceOf(PlanLimitError);
    expect(hours).toMatchObject({
      status: 429,
      type: "insufficient_quota",
      code: "plan_limit_reached",
      retryAfterSeconds: 3600,
    });
    expect(hours?.message).toMatch(/^The service's Claude plan is at its usage limit: .*5-hour usage limit/);
    expect((hours as PlanLimitError).worthRetrying).toBe(false);
    const soon = toClientError(new PlanLimitReachedError("five_hour", 1_800_000_030, 30));
    expect((soon as PlanLimitError).worthRetrying).toBe(true);
    // An executor's own refusal, as its envelope comes back over NATS.
    const fromExecutor = toClientError(remote(429, "plan_limit_reached", "limit reached", 120));
    expect(fromExecutor).toBeInstanceOf(PlanLimitError);
    expect((fromExecutor as PlanLimitError).retryAfterSeconds).toBe(120);
  });

  it("NATS itself away (a counter read timing out, a closed connection): 503 store_unavailable with Retry-After", () => {
    for (const name of ["TimeoutError", "ClosedConnectionError", "JetStreamApiError"]) {
      const err = Object.assign(new Error("nats went away"), { name });
      const mapped = toClientError(err);
      expect(mapped, name).toMatchObject({ status: 503, code: "store_unavailable", retryAfterSeconds: 1 });
    }
  });

  it("passes gateway errors through and leaves anything else to the caller", () => {
    const own = new InvalidRequestError("x", "n");
    expect(toClientError(own)).toBe(own);
    expect(toClientError(new Error("bug"))).toBeUndefined();
    expect(toClientError("string")).toBeUndefined();
  });
});

describe("fromFinishedJob", () => {
  it.each<[string, ReturnType<typeof failedJob>, number, string, RegExp]>([
    [
      "failed upstream",
      failedJob("failed", "upstream_error", "API Error: 529 Overloaded\n  at x"),
      503,
      "upstream_error",
      /^The request failed \(upstream_error\): API Error: 529 Overloaded$/,
    ],
    [
      "not logged in",
      failedJob("failed", "claude_not_authenticated", "Invalid API key"),
      503,
      "claude_not_authenticated",
      /claude_not_authenticated.*Invalid API key/,
    ],
    ["over budget", failedJob("failed", "budget_exceeded"), 503, "budget_exceeded", /budget_exceeded/],
    ["lost executor", failedJob("failed", "executor_lost"), 503, "executor_lost", /executor_lost/],
    [
      "timed out",
      failedJob("timed_out", "timeout", "exceeded 900 s"),
      504,
      "timeout",
      /timed out \(timeout\): exceeded 900 s/,
    ],
    ["cancelled elsewhere", failedJob("cancelled", "cancelled"), 503, "cancelled", /cancelled/],
    ["failed without a recorded reason", failedJob("failed"), 503, "failed", /\(failed\)$/],
  ])("%s", (_name, job, status, code, message) => {
    const err: GatewayError = fromFinishedJob(job);
    expect(err.status).toBe(status);
    expect(err.body().error).toMatchObject({ type: "api_error", code, param: null });
    expect(err.message).toMatch(message);
  });
});

describe("JobFailedError.worthRetrying", () => {
  it.each([
    ["upstream_error", true],
    ["executor_lost", true],
    ["crashed", true],
    ["structured_output_missing", true],
    ["budget_exceeded", false],
    ["max_turns", false],
    ["claude_not_authenticated", false],
    ["execution_error", false],
    ["failed", false],
  ])("%s → %s", (reason, worth) => {
    expect(new JobFailedError("j", reason, "m").worthRetrying).toBe(worth);
  });
});

describe("fromFinishedJob: the request's own fault", () => {
  it.each<[string, ReturnType<typeof failedJob>, string, string | null]>([
    [
      "a conversation longer than the context window",
      failedJob("failed", "prompt_too_long", "Prompt is too long"),
      "context_length_exceeded",
      "messages",
    ],
    [
      "a request the CLI refused",
      failedJob("failed", "invalid_request", "--json-schema is not a valid JSON Schema"),
      "invalid_request",
      null,
    ],
  ])("%s is a 400", (_name, job, code, param) => {
    const err = fromFinishedJob(job);
    expect(err.status).toBe(400);
    expect(err.body().error).toMatchObject({ type: "invalid_request_error", code, param });
  });
});

describe("helpers", () => {
  it.each<[string, string]>([
    ["one", "one"],
    ["\n\n  first line  \nsecond", "first line"],
    ["x".repeat(400), `${"x".repeat(299)}…`],
  ])("firstLine(%j)", (input, expected) => {
    expect(firstLine(input)).toBe(expected);
  });

  it("maps auth failures to OpenAI's shape", () => {
    expect(
      fromAuthFailure({
        status: 401,
        code: "unauthorized",
        message: "Invalid bearer token",
        reason: "invalid_token",
      }).body(),
    ).toEqual({
      error: {
        message: "Invalid bearer token",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    expect(
      fromAuthFailure({
        status: 503,
        code: "auth_not_configured",
        message: "not configured",
        reason: "not_configured",
      }),
    ).toMatchObject({ status: 503, type: "api_error", code: "auth_not_configured" });
  });
});
