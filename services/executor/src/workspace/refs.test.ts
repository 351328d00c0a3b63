import { describe, expect, it } from "vitest";
import { refInListing } from "./refs.js";

const LISTING = [
  "1111111111111111111111111111111111111111\trefs/heads/main",
  "2222222222222222222222222222222222222222\trefs/heads/feature/x",
  "3333333333333333333333333333333333333333\trefs/tags/v1",
  "4444444444444444444444444444444444444444\trefs/tags/v1^{}",
  "5555555555555555555555555555555555555555\trefs/tags/only-peeled^{}",
  "",
].join("\n");

describe("refInListing", () => {
  it.each([
    ["main", "found"],
    ["feature/x", "found"],
    ["v1", "found"],
    ["only-peeled", "found"],
    ["refs/heads/main", "found"],
    ["refs/tags/v1", "found"],
    ["heads/main", "found"], // refs/<ref>, as rev-parse reads it
    ["tags/v1", "found"],
    ["no-such-branch", "missing"],
    ["feature", "missing"], // a prefix of a branch is not the branch
    ["refs/heads/nope", "missing"],
    ["refs/pull/1/head", "missing"], // the base never fetches these
    ["Main", "missing"],
    ["deadbeef", "unknown"], // could be an abbreviated commit id
    ["0123456789abcdef0123456789abcdef01234567", "unknown"],
    ["main~2", "unknown"],
    ["v1^", "unknown"],
    ["@", "unknown"],
    ["HEAD", "unknown"],
  ])("%s: %s", (ref, expected) => {
    expect(refInListing(LISTING, ref)).toBe(expected);
  });

  it("an empty repository has nothing", () => {
    expect(refInListing("", "main")).toBe("missing");
  });
});
