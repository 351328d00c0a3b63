import { NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { RequestFailedError, RequestTimeoutError, ServiceUnavailableError } from "./errors.js";
import { requestErrorFrom } from "./request.js";

describe("requestErrorFrom", () => {
  it("maps a timeout", () => {
    const cause = new TimeoutError();
    const err = requestErrorFrom("jobs.submit", 250, cause);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err).toMatchObject({ subject: "jobs.submit", timeoutMs: 250, cause });
  });

  it("maps no responders", () => {
    const cause = new RequestError("no responders", { cause: new NoRespondersError("jobs.submit") });
    expect(requestErrorFrom("jobs.submit", 250, cause)).toBeInstanceOf(ServiceUnavailableError);
  });

  it("wraps anything else, keeping the cause", () => {
    const cause = new RequestError("connection closed");
    const err = requestErrorFrom("jobs.submit", 250, cause);
    expect(err).toBeInstanceOf(RequestFailedError);
    expect(err.message).toBe("request to jobs.submit failed: connection closed");
    expect(err.cause).toBe(cause);
  });
});
