import { describe, expect, it } from "vitest";
import { declaresGitCrypt } from "./gitattributes.js";

describe("declaresGitCrypt", () => {
  it.each([
    ["secret.txt filter=git-crypt diff=git-crypt", true],
    ["*.key filter=git-crypt diff=git-crypt\n", true],
    ["*.txt text\r\nsecrets/** filter=git-crypt diff=git-crypt\r\n", true],
    ["  config/*.env   filter=git-crypt  ", true],
    ['"with space.txt" filter=git-crypt', true],
    ['"quoted \\" filter=git-crypt.txt" text', false],
    ["[attr]secret filter=git-crypt diff=git-crypt\nkeys/* secret", true],
    ["", false],
    ["* text=auto eol=lf\n*.png binary", false],
    ["# secret.txt filter=git-crypt diff=git-crypt", false],
    ["*.lfs filter=lfs diff=lfs merge=lfs -text", false],
    ["secret.txt diff=git-crypt", false],
    ["filter=git-crypt", false],
    ["secret.txt filter=git-crypt-fake", false],
    ["secret.txt -filter=git-crypt", false],
  ])("%j → %s", (text, expected) => {
    expect(declaresGitCrypt(text)).toBe(expected);
  });
});
