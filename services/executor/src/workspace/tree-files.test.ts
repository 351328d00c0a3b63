import { describe, expect, it } from "vitest";
import { parseTreeEntries, type TreeEntry, unreadableBecause } from "./tree-files.js";

const blob = "587be6b4c3f93f93c489c0111bba5596147a26cb";

describe("parseTreeEntries", () => {
  it("reads modes, types, objects, sizes and paths (tabs and spaces in names included)", () => {
    const output = [
      `100644 blob ${blob}       2\t.gitattributes`,
      `120000 blob ${blob}       9\ta/.gitattributes`,
      `100755 blob ${blob} 70000\tCLAUDE.md`,
      `160000 commit ${blob}       -\tvendor/lib`,
      `040000 tree ${blob}       -\tdocs`,
      `100644 blob ${blob}       3\twith\ttab and space/.gitattributes`,
      "",
    ].join("\0");
    expect(parseTreeEntries(output)).toEqual([
      { mode: "100644", type: "blob", object: blob, size: 2, path: ".gitattributes" },
      { mode: "120000", type: "blob", object: blob, size: 9, path: "a/.gitattributes" },
      { mode: "100755", type: "blob", object: blob, size: 70000, path: "CLAUDE.md" },
      { mode: "160000", type: "commit", object: blob, size: undefined, path: "vendor/lib" },
      { mode: "040000", type: "tree", object: blob, size: undefined, path: "docs" },
      { mode: "100644", type: "blob", object: blob, size: 3, path: "with\ttab and space/.gitattributes" },
    ]);
  });

  it("reads nothing from nothing", () => {
    expect(parseTreeEntries("")).toEqual([]);
  });
});

describe("unreadableBecause", () => {
  const entry = (over: Partial<TreeEntry>): TreeEntry => ({
    mode: "100644",
    type: "blob",
    object: blob,
    size: 10,
    path: "CLAUDE.md",
    ...over,
  });
  it.each([
    [entry({}), undefined],
    [entry({ mode: "100755" }), undefined],
    [entry({ size: 64 * 1024 }), undefined],
    [entry({ size: 64 * 1024 + 1 }), "larger than 65536 bytes (65537)"],
    [entry({ mode: "120000" }), "a symlink"],
    [entry({ mode: "160000", type: "commit", size: undefined }), "not a regular file"],
    [entry({ mode: "040000", type: "tree", size: undefined }), "not a regular file"],
    [entry({ size: undefined }), "of unknown size"],
  ])("%#", (e, why) => {
    expect(unreadableBecause(e, 64 * 1024)).toBe(why);
  });
});
