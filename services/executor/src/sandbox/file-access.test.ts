import { describe, expect, it } from "vitest";
import {
  componentPaths,
  type ModeOwner,
  readableByOthers,
  searchableByOthers,
  untrustedPathProblem,
} from "./file-access.js";

const dir = (mode: number): ModeOwner & { isFile(): boolean } => ({
  mode: 0o040000 | mode,
  uid: 0,
  isDirectory: () => true,
  isSymbolicLink: () => false,
  isFile: () => false,
});
const file = (mode: number): ModeOwner & { isFile(): boolean } => ({
  mode: 0o100000 | mode,
  uid: 0,
  isDirectory: () => false,
  isSymbolicLink: () => false,
  isFile: () => true,
});
const link = (): ModeOwner & { isFile(): boolean } => ({
  mode: 0o120777,
  uid: 0,
  isDirectory: () => false,
  isSymbolicLink: () => true,
  isFile: () => false,
});

describe("readableByOthers", () => {
  it("needs every directory passable and the file readable by others", () => {
    expect(readableByOthers([dir(0o755), dir(0o711), file(0o644)])).toBe(true);
    expect(readableByOthers([dir(0o755), dir(0o700), file(0o644)])).toBe(false);
    expect(readableByOthers([dir(0o755), dir(0o755), file(0o600)])).toBe(false);
    expect(readableByOthers([dir(0o755), file(0o640)])).toBe(false);
    expect(readableByOthers([])).toBe(false);
  });
});

describe("searchableByOthers", () => {
  it("is true only if every directory has the others' x bit", () => {
    expect(searchableByOthers([dir(0o711), dir(0o755)])).toBe(true);
    expect(searchableByOthers([dir(0o711), dir(0o750)])).toBe(false);
  });
});

describe("componentPaths", () => {
  it("lists each component below /", () => {
    expect(componentPaths("/a/b/c.txt")).toEqual(["/a", "/a/b", "/a/b/c.txt"]);
    expect(componentPaths("/a//b/./c")).toEqual(["/a", "/a/b", "/a/b/c"]);
  });
  it("refuses relative paths and '..'", () => {
    expect(() => componentPaths("a/b")).toThrow(/absolute/);
    expect(() => componentPaths("/a/../b")).toThrow(/\.\./);
  });
});

describe("untrustedPathProblem", () => {
  it("accepts directories down to a regular file", () => {
    expect(
      untrustedPathProblem([
        { path: "/h/.claude", stat: dir(0o700) },
        { path: "/h/.claude/t.jsonl", stat: file(0o600) },
      ]),
    ).toBeUndefined();
  });
  it("names a symbolic link anywhere on the way", () => {
    expect(
      untrustedPathProblem([
        { path: "/h/.claude", stat: link() },
        { path: "/h/.claude/t.jsonl", stat: file(0o600) },
      ]),
    ).toMatch(/\/h\/.claude is a symbolic link/);
    expect(
      untrustedPathProblem([
        { path: "/h/.claude", stat: dir(0o700) },
        { path: "/h/.claude/t.jsonl", stat: link() },
      ]),
    ).toMatch(/t.jsonl is a symbolic link/);
  });
  it("refuses a last component that is not a regular file (a FIFO would block the reader)", () => {
    expect(untrustedPathProblem([{ path: "/h/t", stat: dir(0o700) }])).toMatch(/not a regular file/);
  });
});
