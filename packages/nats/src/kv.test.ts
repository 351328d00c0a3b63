import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { isRevisionConflict } from "./kv.js";

const apiError = (err_code: number) => new JetStreamApiError({ code: 400, err_code, description: "x" });

describe("isRevisionConflict", () => {
  it("recognises the wrong-last-sequence errors only", () => {
    expect(isRevisionConflict(apiError(JetStreamApiCodes.StreamWrongLastSequence))).toBe(true);
    expect(isRevisionConflict(apiError(JetStreamApiCodes.StreamWrongLastSequenceUnknown))).toBe(true);
    expect(isRevisionConflict(apiError(JetStreamApiCodes.StreamNotFound))).toBe(false);
    expect(isRevisionConflict(new Error("wrong last sequence"))).toBe(false);
  });
});
