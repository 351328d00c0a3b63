import { describe, expect, it } from "vitest";
import { parsePasswdLine, runnerUserName, runnerUserProblem } from "./passwd.js";

describe("parsePasswdLine", () => {
  it("reads name, uid and gid", () => {
    expect(parsePasswdLine("claude-runner-0:x:996:994::/nonexistent:/usr/sbin/nologin\n")).toEqual({
      name: "claude-runner-0",
      uid: 996,
      gid: 994,
    });
  });
  it.each([
    [""],
    ["root:x:0:0:root:/root"],
    ["a:x:one:2::/:/bin/sh"],
    ["a:x:1:-2::/:/bin/sh"],
    [":x:1:2::/:/bin/sh"],
  ])("is undefined for %j", (line) => {
    expect(parsePasswdLine(line)).toBeUndefined();
  });
});

describe("runner user names", () => {
  it("are <base>-<slot>", () => {
    expect(runnerUserName("claude-runner", 3)).toBe("claude-runner-3");
  });
  it.each([["claude-runner"], ["_r"], ["r2"]])("%s is a valid base", (base) => {
    expect(runnerUserProblem(base)).toBeUndefined();
  });
  it.each([["Root"], ["-x"], ["1abc"], ["a b"], ["a:b"], ["x".repeat(25)], [""]])("%j is refused", (base) => {
    expect(runnerUserProblem(base)).toBeDefined();
  });
});
