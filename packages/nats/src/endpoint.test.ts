import { JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { endpointName, errorReplyFrom } from "./endpoint.js";
import { NatsServiceError } from "./errors.js";

describe("errorReplyFrom", () => {
  it.each([
    ["a NatsServiceError", new NatsServiceError(409, "busy"), { code: 409, message: "busy" }],
    [
      "an HTTP-style status",
      Object.assign(new Error("gone"), { status: 410 }),
      { code: 410, message: "gone" },
    ],
    ["a plain error", new Error("boom"), { code: 500, message: "boom" }],
    [
      "a string code",
      Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
      { code: 500, message: "refused" },
    ],
    ["an out-of-range code", Object.assign(new Error("ok?"), { code: 200 }), { code: 500, message: "ok?" }],
    ["a thrown string", "oops", { code: 500, message: "oops" }],
  ])("maps %s", (_, err, expected) => {
    expect(errorReplyFrom(err)).toEqual(expected);
  });

  it("treats a JetStream API error as our failure, not the caller's", () => {
    const err = new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });
    expect(errorReplyFrom(err)).toEqual({ code: 500, message: "stream not found" });
  });
});

describe("endpointName", () => {
  it.each([
    ["jobs", "jobs"],
    ["claude.v1.jobs.submit", "claude-v1-jobs-submit"],
    ["jobs.*.status", "jobs-_-status"],
  ])("%s → %s", (subject, name) => {
    expect(endpointName(subject)).toBe(name);
  });
});
