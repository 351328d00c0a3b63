import { describe, expect, it } from "vitest";
import { withParentDeathSignal, wrappedExit } from "./launcher.js";

describe("withParentDeathSignal", () => {
  it("starts the CLI under setpriv --pdeathsig KILL, its arguments untouched", () => {
    expect(withParentDeathSignal("claude", ["-p", "--model", "x y"], "/usr/bin/setpriv")).toEqual({
      file: "/usr/bin/setpriv",
      args: ["--pdeathsig", "KILL", "--", "claude", "-p", "--model", "x y"],
    });
  });
  it("without the wrapper, the CLI itself", () => {
    expect(withParentDeathSignal("claude", ["-p"], undefined)).toEqual({ file: "claude", args: ["-p"] });
  });
});

describe("wrappedExit", () => {
  it("setpriv's 127 and 126 are the CLI missing or not executable, as a direct spawn says", () => {
    expect(wrappedExit({ exitCode: 127 }, true)).toEqual({ code: "ENOENT" });
    expect(wrappedExit({ exitCode: 126 }, true)).toEqual({ code: "EACCES" });
  });
  it("the CLI's own exits and signals pass through", () => {
    for (const exit of [{ exitCode: 0 }, { exitCode: 1 }, { signal: "SIGKILL" }, { code: "ENOENT" }])
      expect(wrappedExit(exit, true)).toEqual(exit);
  });
  it("unwrapped, a 127 is the CLI's own", () => {
    expect(wrappedExit({ exitCode: 127 }, false)).toEqual({ exitCode: 127 });
  });
});
