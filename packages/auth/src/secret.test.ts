import { describe, expect, it } from "vitest";
import { secretChecker, tokenFinder } from "./secret.js";

describe("secretChecker", () => {
  const matches = secretChecker("s3cret");

  it.each([
    ["the secret", "s3cret", true],
    ["a different secret of the same length", "s3creT", false],
    ["a prefix", "s3cre", false],
    ["a longer value", "s3cret-and-more", false],
    ["the empty string", "", false],
  ])("%s → %s", (_, presented, expected) => {
    expect(matches(presented)).toBe(expected);
  });
});

describe("tokenFinder", () => {
  const find = tokenFinder([
    { name: "ci", token: "abc" },
    { name: "bot", token: "a-much-longer-token" },
  ]);

  it("finds the entry whose token matches, whatever its position", () => {
    expect(find("abc")?.name).toBe("ci");
    expect(find("a-much-longer-token")?.name).toBe("bot");
  });

  it.each(["ab", "abcd", "ABC", "", "a-much-longer-token "])("finds nothing for %j", (presented) => {
    expect(find(presented)).toBeUndefined();
  });

  it("finds nothing when no tokens are configured", () => {
    expect(tokenFinder([])("abc")).toBeUndefined();
  });
});
