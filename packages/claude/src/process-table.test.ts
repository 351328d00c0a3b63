import { describe, expect, it } from "vitest";
import { descendantsOf, environHas, parseStat, parseStatusUids, statIsDead } from "./process-table.js";

describe("parseStat", () => {
  it("reads pid, ppid, pgid and sid", () => {
    expect(parseStat("1234 (claude) S 1000 1234 1234 0 -1 4194560 …")).toEqual({
      pid: 1234,
      ppid: 1000,
      pgid: 1234,
      sid: 1234,
    });
  });
  it("copes with spaces and parentheses in the command name", () => {
    expect(parseStat("77 (a (weird) name) R 5 6 7 0")).toEqual({ pid: 77, ppid: 5, pgid: 6, sid: 7 });
  });
  it.each(["", "garbage", "12 (x S", "x (y) S a b c"])("rejects %j", (s) => {
    expect(parseStat(s)).toBeUndefined();
  });
});

describe("descendantsOf", () => {
  const p = (pid: number, ppid: number) => ({ pid, ppid, pgid: pid, sid: pid });
  it("walks children and grandchildren, parents first, excluding the root", () => {
    const table = [p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1)];
    expect(descendantsOf(table, 10)).toEqual([11, 12, 13]);
    expect(descendantsOf(table, 13)).toEqual([]);
    expect(descendantsOf(table, 99)).toEqual([]);
  });
  it("does not loop on a cycle in a torn snapshot", () => {
    expect(descendantsOf([p(2, 3), p(3, 2)], 2)).toEqual([3]);
  });
});

describe("environHas", () => {
  it("matches whole entries only", () => {
    const env = "A=1\0CLAUDE_GATEWAY_RUN_ID=abc\0B=2\0";
    expect(environHas(env, "CLAUDE_GATEWAY_RUN_ID", "abc")).toBe(true);
    expect(environHas(env, "CLAUDE_GATEWAY_RUN_ID", "ab")).toBe(false);
    expect(environHas("XCLAUDE_GATEWAY_RUN_ID=abc", "CLAUDE_GATEWAY_RUN_ID", "abc")).toBe(false);
  });
});

describe("parseStatusUids", () => {
  it("reads the real and effective uid", () => {
    const status =
      "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t20001\t20002\t20001\t20001\nGid:\t5\t5\t5\t5\n";
    expect(parseStatusUids(status)).toEqual({ real: 20001, effective: 20002 });
  });
  it("is undefined without a well-formed Uid line", () => {
    expect(parseStatusUids("Name:\tx\n")).toBeUndefined();
    expect(parseStatusUids("Uid:\tabc\t1\n")).toBeUndefined();
    expect(parseStatusUids("Uid:\t7\n")).toBeUndefined();
  });
});

describe("statIsDead", () => {
  it("a zombie or a process being torn down has ended; running, sleeping and stopped ones have not", () => {
    const line = (state: string) => `7129 (tail) ${state} 1 7129 7129 0 -1 4228108 222 0`;
    expect(statIsDead(line("Z"))).toBe(true);
    expect(statIsDead(line("X"))).toBe(true);
    expect(statIsDead(line("x"))).toBe(true);
    for (const s of ["R", "S", "D", "T", "t", "I"]) expect(statIsDead(line(s))).toBe(false);
  });
  it("reads the state after the last ')' of a name that holds parentheses and spaces", () => {
    expect(statIsDead("42 (a) Z (b) S 1 42 42 0")).toBe(false);
    expect(statIsDead("42 (a) S (b) Z 1 42 42 0")).toBe(true);
  });
  it("a line without a name is not taken for a dead process", () => {
    expect(statIsDead("garbage")).toBe(false);
  });
});
