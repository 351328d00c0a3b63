import { describe, expect, it } from "vitest";
import { LaunchControl, LaunchEvent, lineReader, RunnerRequest } from "./protocol.js";

describe("lineReader", () => {
  it("hands on each JSON line, across chunk boundaries, skipping blank lines", () => {
    const seen: unknown[] = [];
    const read = lineReader(
      (v) => seen.push(v),
      () => seen.push("bad"),
    );
    read('{"a":1}\n{"b"');
    read(':2}\n\n{"c":3}');
    expect(seen).toEqual([{ a: 1 }, { b: 2 }]);
    read("\n");
    expect(seen).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });
  it("stops at a line that is not JSON", () => {
    const seen: unknown[] = [];
    const read = lineReader(
      (v) => seen.push(v),
      (why) => seen.push(why),
    );
    read('not json\n{"a":1}\n');
    expect(seen).toEqual(["a line that is not JSON"]);
  });
});

describe("RunnerRequest", () => {
  it("accepts the requests the executor sends", () => {
    for (const req of [
      { op: "ping" },
      { op: "open", jobId: "3f0c-1" },
      { op: "adopt", jobId: "j", dir: "/work/jobs/j" },
      { op: "place", jobId: "j", from: "/work/staging/j/a", to: "/work/homes/j/.claude/x" },
      { op: "take", jobId: "j", path: "/work/homes/j/.claude/x", to: "/work/staging/j/b" },
      { op: "reap", jobId: "j" },
      { op: "close", jobId: "j" },
      {
        op: "launch",
        jobId: "j",
        spec: {
          file: "/usr/bin/claude",
          args: ["-p"],
          cwd: "/work/jobs/j",
          env: { A: "1" },
          runId: "r",
          input: "hi",
        },
      },
    ]) {
      expect(RunnerRequest.safeParse(req).success, JSON.stringify(req)).toBe(true);
    }
  });
  it.each([
    [{ op: "open", jobId: "../etc" }],
    [{ op: "open", jobId: "" }],
    [{ op: "adopt", jobId: "j", dir: "relative/dir" }],
    [{ op: "launch", jobId: "j", spec: { file: "claude", args: [], cwd: "/w", env: {}, runId: "r" } }],
    [{ op: "exec", jobId: "j" }],
  ])("refuses %j", (req) => {
    expect(RunnerRequest.safeParse(req).success).toBe(false);
  });
  it("drops a user the client names: the runner picks it", () => {
    const parsed = RunnerRequest.parse({
      op: "launch",
      jobId: "j",
      spec: { file: "/c", args: [], cwd: "/w", env: {}, runId: "r", runAs: { uid: 0, gid: 0 } },
    });
    expect(parsed).not.toHaveProperty("spec.runAs");
  });
});

describe("launch controls and events", () => {
  it("parse what both sides send", () => {
    expect(LaunchControl.safeParse({ op: "stdin", data: "x" }).success).toBe(true);
    expect(LaunchControl.safeParse({ op: "kill" }).success).toBe(false);
    expect(LaunchEvent.safeParse({ t: "exit", exitCode: 0 }).success).toBe(true);
    expect(LaunchEvent.safeParse({ t: "out", d: "line\n" }).success).toBe(true);
    expect(LaunchEvent.safeParse({ t: "nope" }).success).toBe(false);
  });
});
