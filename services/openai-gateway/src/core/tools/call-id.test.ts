import { describe, expect, it } from "vitest";
import { clientCallId, parseClientCallId } from "./call-id.js";

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const API = "toolu_01AbCdEfGhIjKlMnOpQrStUv";

describe("clientCallId", () => {
  it("is call_, the job id without dashes, and the API's id", () => {
    expect(clientCallId(JOB, API)).toBe(`call_0f8e2c4a1b3d4e5f9a7b6c5d4e3f2a1b_${API}`);
  });

  it("uses only characters both OpenAI and Anthropic clients accept", () => {
    expect(clientCallId(JOB, API)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ["an upper-case job id", JOB.toUpperCase(), API],
    ["a job id that is not a UUID", "resp-1", API],
    ["an empty API id", JOB, ""],
    ["an API id with other characters", JOB, "toolu.01"],
    ["an API id over 256 characters", JOB, "x".repeat(257)],
  ])("refuses %s", (_name, jobId, apiId) => {
    expect(() => clientCallId(jobId, apiId)).toThrow();
  });
});

describe("parseClientCallId", () => {
  it("round-trips", () => {
    expect(parseClientCallId(clientCallId(JOB, API))).toEqual({ jobId: JOB, apiId: API });
    expect(parseClientCallId(clientCallId(JOB, "a"))).toEqual({ jobId: JOB, apiId: "a" });
    const long = `toolu_${"x".repeat(250)}`;
    expect(parseClientCallId(clientCallId(JOB, long))).toEqual({ jobId: JOB, apiId: long });
  });

  it("keeps underscores of the API id (only the first two are separators)", () => {
    expect(parseClientCallId(`call_${"a".repeat(32)}_toolu_a_b`)).toEqual({
      jobId: "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
      apiId: "toolu_a_b",
    });
  });

  it.each([
    ["an OpenAI call id", "call_abc123"],
    ["an Anthropic tool_use id", API],
    ["no API id", `call_${"a".repeat(32)}_`],
    ["no separator", `call_${"a".repeat(32)}${API}`],
    ["a job id too short", `call_${"a".repeat(31)}_${API}`],
    ["a job id too long", `call_${"a".repeat(33)}_${API}`],
    ["upper-case hex", `call_${"A".repeat(32)}_${API}`],
    ["a dashed job id", `call_${JOB}_${API}`],
    ["another prefix", `fc_${"a".repeat(32)}_${API}`],
    ["other characters", `call_${"a".repeat(32)}_toolu.1`],
    ["an API id over 256 characters", `call_${"a".repeat(32)}_${"x".repeat(257)}`],
    ["empty", ""],
  ])("is undefined for %s", (_name, id) => {
    expect(parseClientCallId(id)).toBeUndefined();
  });
});
