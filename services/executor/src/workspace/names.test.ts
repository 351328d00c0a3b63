import { describe, expect, it } from "vitest";
import { baseDirName, isFullSha, isValidJobId, refProblem } from "./names.js";

describe("isValidJobId", () => {
  it.each(["a", "job_1", "0199a7e2-5c1b-7f3e-9a61-3d2b8c4e5f60", "x".repeat(128)])("accepts %s", (id) => {
    expect(isValidJobId(id)).toBe(true);
  });
  it.each(["", "..", "../etc", "a/b", "a.b", "a b", "x".repeat(129), "é", "a\n"])("refuses %j", (id) => {
    expect(isValidJobId(id)).toBe(false);
  });
});

describe("baseDirName", () => {
  it("is 16 hex digits, stable per URL and different across URLs", () => {
    const a = baseDirName("https://github.com/acme/app.git");
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(baseDirName("https://github.com/acme/app.git")).toBe(a);
    expect(baseDirName("https://github.com/acme/app")).not.toBe(a);
  });
  it("is the start of the URL's SHA-256", () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(baseDirName("abc")).toBe("ba7816bf8f01cfea");
  });
  it("keeps path syntax out of the name", () => {
    expect(baseDirName("/../../etc")).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("refProblem", () => {
  it.each(["main", "feature/x-1", "v1.2.3", "refs/heads/main", "HEAD", "a1b2c3d", "main~2", "v1^{commit}"])(
    "accepts %s",
    (ref) => {
      expect(refProblem(ref)).toBeUndefined();
    },
  );
  it.each([
    "",
    "-b",
    "--upload-pack=x",
    "main..evil",
    "a b",
    "a\tb",
    "main@{1}",
    "HEAD:path",
    "ma?n",
    "ma*n",
    "ma[n",
    "a\\b",
    "x".repeat(256),
  ])("refuses %j", (ref) => {
    expect(refProblem(ref)).toBeTypeOf("string");
  });
});

describe("isFullSha", () => {
  it.each([
    ["a".repeat(40), true],
    ["0".repeat(64), true],
    ["a1b2c3d", false],
    ["A".repeat(40), false],
    ["g".repeat(40), false],
    ["main", false],
  ])("%s → %s", (ref, expected) => {
    expect(isFullSha(ref)).toBe(expected);
  });
});
