import { describe, expect, it } from "vitest";
import { z } from "zod";
import { check, decodeJson, encodeJson, formatIssues, headerSafe, issuesOf } from "./codec.js";

const Job = z.object({ prompt: z.string(), maxTurns: z.number().int().default(1) });
const bytes = (text: string) => new TextEncoder().encode(text);

describe("decodeJson", () => {
  it("returns the schema's output", () => {
    expect(decodeJson(bytes('{"prompt":"hi"}'), Job)).toEqual({
      ok: true,
      value: { prompt: "hi", maxTurns: 1 },
    });
  });

  it.each([
    ["not JSON", "{nope"],
    ["empty", ""],
  ])("reports %s as a JSON failure", (_, text) => {
    const decoded = decodeJson(bytes(text), Job);
    expect(decoded).toMatchObject({ ok: false, reason: "json" });
    expect(decoded.ok === false && issuesOf(decoded)).toEqual([]);
  });

  it("reports schema failures with their issues", () => {
    const decoded = decodeJson(bytes('{"prompt":3}'), Job);
    expect(decoded).toMatchObject({ ok: false, reason: "schema" });
    if (decoded.ok) throw new Error("unreachable");
    expect(decoded.message).toMatch(/^prompt: /);
    expect(issuesOf(decoded)).toHaveLength(1);
  });
});

describe("check / encodeJson", () => {
  it("round-trips what the schema accepts", () => {
    const checked = check({ prompt: "x", extra: true }, Job);
    expect(checked.ok && new TextDecoder().decode(encodeJson(checked.value))).toBe(
      '{"prompt":"x","maxTurns":1}',
    );
  });
});

describe("formatIssues", () => {
  it.each([
    [[], "invalid value"],
    [[{ path: [], message: "Expected object" }], "(root): Expected object"],
    [
      [
        { path: ["a", 0, "b"], message: "Required" },
        { path: ["c"], message: "Too small" },
      ],
      "a.0.b: Required; c: Too small",
    ],
  ])("formats %j", (issues, expected) => {
    expect(formatIssues(issues)).toBe(expected);
  });
});

describe("headerSafe", () => {
  it("flattens line breaks and caps the length", () => {
    expect(headerSafe("a\r\nb\nc")).toBe("a b c");
    const long = headerSafe("x".repeat(5000));
    expect(long.length).toBe(1024);
    expect(long.endsWith("…")).toBe(true);
  });
});
