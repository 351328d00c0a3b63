import { describe, expect, it } from "vitest";
import {
  ClaudeError,
  ClaudeInvalidRequestError,
  ClaudeMaxTurnsError,
  ClaudeStructuredOutputError,
} from "./errors.js";

describe("ClaudeError", () => {
  it("is named after its class", () => {
    expect(String(new ClaudeMaxTurnsError("too many turns"))).toBe("ClaudeMaxTurnsError: too many turns");
  });

  it("a data-only error carries its code, retryability and status, and is a ClaudeError", () => {
    const refused = new ClaudeInvalidRequestError("bad schema");
    expect(refused).toBeInstanceOf(ClaudeError);
    expect(refused).toMatchObject({
      code: "invalid_request",
      retryable: false,
      status: 400,
      detail: "bad schema",
    });
    expect(new ClaudeStructuredOutputError("prose")).toMatchObject({
      code: "structured_output_missing",
      retryable: true,
      status: 503,
    });
  });
});
