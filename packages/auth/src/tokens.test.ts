import { describe, expect, it } from "vitest";
import { parseTokenList } from "./tokens.js";

const env = (text: string) => parseTokenList(text, "env", "AUTH_TOKENS");
const file = (text: string) => parseTokenList(text, "file", "AUTH_TOKENS_FILE");
/** Tokens of the minimum length and more (16 characters). */
const T1 = "abc123-0123456789";
const T2 = "def456-0123456789";
const T3 = "ghi789-0123456789";

describe("parseTokenList (env)", () => {
  it.each([
    ["one pair", `ci=${T1}`, [{ name: "ci", token: T1 }]],
    [
      "several pairs",
      `ci=${T1},bot=${T2}`,
      [
        { name: "ci", token: T1 },
        { name: "bot", token: T2 },
      ],
    ],
    [
      "spaces around items and around =",
      `  ci = ${T1} ,  bot=${T2}  `,
      [
        { name: "ci", token: T1 },
        { name: "bot", token: T2 },
      ],
    ],
    ["a trailing comma", `ci=${T1},`, [{ name: "ci", token: T1 }]],
    [
      "a base64 token with = padding",
      "ci=YWJjZGVmZ2hpamtsbW5vcA==",
      [{ name: "ci", token: "YWJjZGVmZ2hpamtsbW5vcA==" }],
    ],
    ["every allowed name character", `a.B_9@x-y=${T1}`, [{ name: "a.B_9@x-y", token: T1 }]],
    ["a token of exactly 16 characters", "ci=0123456789abcdef", [{ name: "ci", token: "0123456789abcdef" }]],
    ["a token with # and symbols", "ci=a#b!~+/0123456789", [{ name: "ci", token: "a#b!~+/0123456789" }]],
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
    ["a later bad entry", `ci=${T1},bot`, "AUTH_TOKENS entry 2: expected name=token"],
    [
      "a token shorter than 16 characters",
      "ci=0123456789abcde",
      'AUTH_TOKENS entry 1: token of "ci" is shorter than 16 characters',
    ],
  ])("rejects %s", (_, text, problem) => {
    const result = env(text);
    expect(result.tokens).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(problem);
  });

  it("numbers entries by position, counting skipped blanks", () => {
    expect(env(`ci=${T1},,bot`).problems).toEqual([
      'AUTH_TOKENS entry 3: expected name=token (no "=" found)',
    ]);
  });

  it("reports every problem, not just the first", () => {
    expect(env("=a,b=,c").problems).toHaveLength(3);
  });

  it("rejects duplicate names, naming both places", () => {
    expect(env(`ci=${T1},bot=${T2},ci=${T3}`).problems).toEqual([
      'AUTH_TOKENS entry 3: duplicate name "ci" (first at AUTH_TOKENS entry 1)',
    ]);
  });

  it("rejects duplicate tokens by name only", () => {
    const { problems } = env("ci=sekrit-0123456789,bot=sekrit-0123456789");
    expect(problems).toEqual(['AUTH_TOKENS entry 2 ("bot"): same token as AUTH_TOKENS entry 1 ("ci")']);
  });

  it("keeps no tokens when any entry is bad", () => {
    expect(env(`ci=${T1},bot`).tokens).toEqual([]);
  });

  it("never quotes a token or a possible token in a problem", () => {
    const secrets = [
      "sekrit-bare",
      "sekrit-dup-0123456789",
      "sek rit-space",
      "sékrit",
      "sekrit-name",
      "sekrit-short",
    ];
    const { problems } = env(
      "sekrit-bare,a=sekrit-dup-0123456789,b=sekrit-dup-0123456789,c=sek rit-space,d=sékrit,sekrit-name=,e=sekrit-short",
    );
    expect(problems.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) expect(problems.join("\n")).not.toContain(secret);
  });
});

describe("parseTokenList (file)", () => {
  it("reads one pair per line, skipping blank lines and # comments", () => {
    const text = `# CI tokens\n\nci=${T1}\n   # indented comment\nbot=${T2}\n`;
    expect(file(text)).toEqual({
      tokens: [
        { name: "ci", token: T1 },
        { name: "bot", token: T2 },
      ],
      problems: [],
    });
  });

  it("accepts comma-separated pairs on one line (a secret written as AUTH_TOKENS)", () => {
    expect(file(`ci=${T1},bot=${T2}`).tokens).toHaveLength(2);
  });

  it("mixes lines and commas", () => {
    expect(file(`ci=${T1},bot=${T2}\nops=${T3}\n`).tokens.map((t) => t.name)).toEqual(["ci", "bot", "ops"]);
  });

  it("handles CRLF line endings and a byte-order mark", () => {
    expect(file(`\uFEFFci=${T1}\r\nbot=${T2}\r\n`).tokens).toEqual([
      { name: "ci", token: T1 },
      { name: "bot", token: T2 },
    ]);
  });

  it("does not treat # after an entry as a comment: the entry is rejected instead", () => {
    expect(file(`ci=${T1} # the CI runner`).problems).toEqual([
      "AUTH_TOKENS_FILE line 1: token must be printable ASCII without spaces or commas",
    ]);
  });

  it("locates problems by line, and by entry when a line holds several", () => {
    expect(file(`# header\nci=${T1}\nbot\nx=${T2},=${T3}`).problems).toEqual([
      'AUTH_TOKENS_FILE line 3: expected name=token (no "=" found)',
      "AUTH_TOKENS_FILE line 4 entry 2: empty name",
    ]);
  });

  it("rejects duplicates across lines", () => {
    expect(file(`ci=${T1}\nci=${T2}`).problems).toEqual([
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
