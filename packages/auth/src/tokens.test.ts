import { describe, expect, it } from "vitest";
import { parseTokenList } from "./tokens.js";

const env = (text: string) => parseTokenList(text, "env", "AUTH_TOKENS");
const file = (text: string) => parseTokenList(text, "file", "AUTH_TOKENS_FILE");

describe("parseTokenList (env)", () => {
  it.each([
    ["one pair", "ci=abc123", [{ name: "ci", token: "abc123" }]],
    [
      "several pairs",
      "ci=abc123,bot=def456",
      [
        { name: "ci", token: "abc123" },
        { name: "bot", token: "def456" },
      ],
    ],
    [
      "spaces around items and around =",
      "  ci = abc123 ,  bot=def456  ",
      [
        { name: "ci", token: "abc123" },
        { name: "bot", token: "def456" },
      ],
    ],
    ["a trailing comma", "ci=abc123,", [{ name: "ci", token: "abc123" }]],
    ["a base64 token with = padding", "ci=YWJjZA==", [{ name: "ci", token: "YWJjZA==" }]],
    ["every allowed name character", "a.B_9@x-y=t", [{ name: "a.B_9@x-y", token: "t" }]],
    ["a token with # and symbols", "ci=a#b!~+/", [{ name: "ci", token: "a#b!~+/" }]],
  ])("accepts %s", (_, text, tokens) => {
    expect(env(text)).toEqual({ tokens, problems: [] });
  });

  it.each([
    ["a bare token (no =)", "sekrit", "AUTH_TOKENS entry 1: expected name=token"],
    ["an empty name", "=sekrit", "AUTH_TOKENS entry 1: empty name"],
    ["an empty token", "ci=", "AUTH_TOKENS entry 1: empty token"],
    ["a name with a space", "c i=sekrit", "AUTH_TOKENS entry 1: name may only contain"],
    ["a name with a newline", "c\ni=sekrit", "AUTH_TOKENS entry 1: name may only contain"],
    ["a token with inner whitespace", "ci=sek rit", "AUTH_TOKENS entry 1: token must be printable ASCII"],
    ["a non-ASCII token", "ci=sékrit", "AUTH_TOKENS entry 1: token must be printable ASCII"],
    ["only separators", " , ,", "AUTH_TOKENS: no name=token entries"],
    ["a later bad entry", "ci=abc,bot", "AUTH_TOKENS entry 2: expected name=token"],
  ])("rejects %s", (_, text, problem) => {
    const result = env(text);
    expect(result.tokens).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(problem);
  });

  it("numbers entries by position, counting skipped blanks", () => {
    expect(env("ci=abc,,bot").problems).toEqual(['AUTH_TOKENS entry 3: expected name=token (no "=" found)']);
  });

  it("reports every problem, not just the first", () => {
    expect(env("=a,b=,c").problems).toHaveLength(3);
  });

  it("rejects duplicate names, naming both places", () => {
    expect(env("ci=abc,bot=def,ci=ghi").problems).toEqual([
      'AUTH_TOKENS entry 3: duplicate name "ci" (first at AUTH_TOKENS entry 1)',
    ]);
  });

  it("rejects duplicate tokens by name only", () => {
    const { problems } = env("ci=sekrit-1,bot=sekrit-1");
    expect(problems).toEqual(['AUTH_TOKENS entry 2 ("bot"): same token as AUTH_TOKENS entry 1 ("ci")']);
  });

  it("keeps no tokens when any entry is bad", () => {
    expect(env("ci=abc,bot").tokens).toEqual([]);
  });

  it("never quotes a token or a possible token in a problem", () => {
    const secrets = ["sekrit-bare", "sekrit-dup", "sek rit-space", "sékrit", "sekrit-name"];
    const { problems } = env(`sekrit-bare,a=sekrit-dup,b=sekrit-dup,c=sek rit-space,d=sékrit,sekrit-name=`);
    expect(problems.length).toBeGreaterThanOrEqual(5);
    for (const secret of secrets) expect(problems.join("\n")).not.toContain(secret);
  });
});

describe("parseTokenList (file)", () => {
  it("reads one pair per line, skipping blank lines and # comments", () => {
    const text = "# CI tokens\n\nci=abc123\n   # indented comment\nbot=def456\n";
    expect(file(text)).toEqual({
      tokens: [
        { name: "ci", token: "abc123" },
        { name: "bot", token: "def456" },
      ],
      problems: [],
    });
  });

  it("accepts comma-separated pairs on one line (a secret written as AUTH_TOKENS)", () => {
    expect(file("ci=abc123,bot=def456").tokens).toHaveLength(2);
  });

  it("mixes lines and commas", () => {
    expect(file("ci=a,bot=b\nops=c\n").tokens.map((t) => t.name)).toEqual(["ci", "bot", "ops"]);
  });

  it("handles CRLF line endings and a byte-order mark", () => {
    expect(file("\uFEFFci=abc\r\nbot=def\r\n").tokens).toEqual([
      { name: "ci", token: "abc" },
      { name: "bot", token: "def" },
    ]);
  });

  it("does not treat # after an entry as a comment: the entry is rejected instead", () => {
    expect(file("ci=abc # the CI runner").problems).toEqual([
      "AUTH_TOKENS_FILE line 1: token must be printable ASCII without spaces or commas",
    ]);
  });

  it("locates problems by line, and by entry when a line holds several", () => {
    expect(file("# header\nci=abc\nbot\nx=1,=2").problems).toEqual([
      'AUTH_TOKENS_FILE line 3: expected name=token (no "=" found)',
      "AUTH_TOKENS_FILE line 4 entry 2: empty name",
    ]);
  });

  it("rejects duplicates across lines", () => {
    expect(file("ci=abc\nci=def").problems).toEqual([
      'AUTH_TOKENS_FILE line 2: duplicate name "ci" (first at AUTH_TOKENS_FILE line 1)',
    ]);
  });

  it.each([
    ["empty", ""],
    ["only comments and blanks", "# nothing yet\n\n  \n"],
  ])("rejects a file that is %s", (_, text) => {
    expect(file(text)).toEqual({ tokens: [], problems: ["AUTH_TOKENS_FILE: no name=token entries"] });
  });
});
