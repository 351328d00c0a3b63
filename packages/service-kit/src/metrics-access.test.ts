import { describe, expect, it } from "vitest";
import { loadMetricsToken } from "./metrics-access.js";

const TOKEN = "metrics-token-0123456789";
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const content = contents[path];
    if (content === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    return content;
  };
const none = files({});

describe("loadMetricsToken", () => {
  it("is absent when neither variable is set (or both are empty)", () => {
    expect(loadMetricsToken({}, none)).toEqual({ token: undefined, problems: [] });
    expect(loadMetricsToken({ METRICS_TOKEN: "", METRICS_TOKEN_FILE: "" }, none)).toEqual({
      token: undefined,
      problems: [],
    });
  });

  it("reads METRICS_TOKEN", () => {
    expect(loadMetricsToken({ METRICS_TOKEN: TOKEN }, none)).toEqual({ token: TOKEN, problems: [] });
  });

  it("reads METRICS_TOKEN_FILE, without the newline a file usually ends with", () => {
    const read = files({ "/run/metrics/token": `${TOKEN}\n` });
    expect(loadMetricsToken({ METRICS_TOKEN_FILE: "/run/metrics/token" }, read)).toEqual({
      token: TOKEN,
      problems: [],
    });
  });

  it.each<[string, Record<string, string>, string]>([
    [
      "both variables",
      { METRICS_TOKEN: TOKEN, METRICS_TOKEN_FILE: "/t" },
      "set METRICS_TOKEN or METRICS_TOKEN_FILE, not both",
    ],
    [
      "a short token",
      { METRICS_TOKEN: "metrics-12345" },
      "METRICS_TOKEN: shorter than 16 characters (make one with `openssl rand -hex 32`)",
    ],
    [
      "a token with a space",
      { METRICS_TOKEN: "metrics token 0123456789" },
      "METRICS_TOKEN: must be printable ASCII without spaces or commas",
    ],
    [
      "an unreadable file",
      { METRICS_TOKEN_FILE: "/missing" },
      'METRICS_TOKEN_FILE: cannot read "/missing" (ENOENT)',
    ],
  ])("refuses %s, never quoting the token", (_n, env, problem) => {
    const result = loadMetricsToken(env, none);
    expect(result).toEqual({ token: undefined, problems: [problem] });
  });

  it("refuses an empty file by name", () => {
    expect(loadMetricsToken({ METRICS_TOKEN_FILE: "/t" }, files({ "/t": "\n" })).problems).toEqual([
      "METRICS_TOKEN_FILE (/t): empty",
    ]);
  });
});
