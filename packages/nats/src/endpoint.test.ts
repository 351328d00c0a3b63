import { ServiceError } from "@claude-gateway/service-kit";
import { JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { endpointName, serviceErrorFrom } from "./endpoint.js";

describe("serviceErrorFrom", () => {
  it.each([
    [
      "a service error",
      new ServiceError(409, "busy", "busy now"),
      { status: 409, code: "busy", detail: "busy now" },
    ],
    [
      "another package's error that carries its answer",
      Object.assign(new Error("gone"), { status: 410, code: "gone_away" }),
      { status: 410, code: "gone_away", detail: "gone" },
    ],
    ["a plain error", new Error("boom"), { status: 500, code: "internal" }],
    [
      "a system error code",
      Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
      { status: 500, code: "internal" },
    ],
    ["an out-of-range status", Object.assign(new Error("ok?"), { status: 200, code: "x" }), { status: 500 }],
    ["a thrown string", "oops", { status: 500, code: "internal" }],
  ])("maps %s", (_, err, expected) => {
    expect(serviceErrorFrom(err)).toMatchObject(expected);
  });

  it("treats a JetStream API error as our failure, not the caller's", () => {
    const err = new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });
    expect(serviceErrorFrom(err)).toMatchObject({ status: 500, code: "internal" });
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
