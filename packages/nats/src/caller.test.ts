import { ServiceError } from "@claude-gateway/service-kit/errors";
import { describe, expect, it } from "vitest";
import { callerOfRequest } from "./caller.js";

describe("callerOfRequest", () => {
  it("is the subject's principal; a payload may repeat it", () => {
    expect(callerOfRequest("agent.v1.jobs.submit.nats_ada", undefined)).toBe("nats_ada");
    expect(callerOfRequest("agent.v1.jobs.submit.nats_ada", "nats_ada")).toBe("nats_ada");
  });
  it("refuses a payload that names someone else (403 caller_mismatch)", () => {
    const err = (() => {
      try {
        callerOfRequest("agent.v1.jobs.submit.nats_ada", "tok_bob");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ status: 403, code: "caller_mismatch" });
  });
  it("refuses a subject without a caller (400)", () => {
    expect(() => callerOfRequest("agent.v1.jobs.submit", undefined)).toThrow(/names no caller/);
  });
});
