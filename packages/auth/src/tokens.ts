import {
  type AuthToken,
  duplicateProblems,
  type Located,
  MIN_TOKEN_LENGTH,
  shortTokenProblem,
  TOKEN_NAME_PATTERN,
  TOKEN_VALUE_PATTERN,
} from "./schema.js";

export interface TokenListResult {
  /** Empty whenever there are problems: a partly valid list is not used. */
  tokens: AuthToken[];
  problems: string[];
}

/**
 * Parses a token list. `env` is `AUTH_TOKENS`: comma-separated `name=token`. `file` is the content of
 * `AUTH_TOKENS_FILE`: entries one per line or comma-separated, blank lines and lines starting with `#`
 * ignored. `#` is not an inline comment because tokens may contain it. `label` prefixes every problem.
 * Problems never quote a token, nor text that might be one (a malformed entry may be a bare token).
 */
export function parseTokenList(text: string, format: "env" | "file", label: string): TokenListResult {
  const entries = format === "env" ? splitEnvEntries(text, label) : splitFileEntries(text, label);
  const problems: string[] = [];
  const tokens: Located<AuthToken>[] = [];
  for (const entry of entries) {
    const parsed = parseEntry(entry.value);
    if (typeof parsed === "string") problems.push(`${entry.where}: ${parsed}`);
    else tokens.push({ value: parsed, where: entry.where });
  }
  if (entries.length === 0) problems.push(`${label}: no name=token entries`);
  problems.push(...duplicateProblems(tokens));
  return { tokens: problems.length === 0 ? tokens.map((t) => t.value) : [], problems };
}

function splitEnvEntries(text: string, label: string): Located<string>[] {
  return splitItems(text).map(({ item, index }) => ({ value: item, where: `${label} entry ${index}` }));
}

function splitFileEntries(text: string, label: string): Located<string>[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  return lines.flatMap((line, i) => {
    if (line.trim().startsWith("#")) return [];
    const items = splitItems(line);
    const lineLabel = `${label} line ${i + 1}`;
    return items.map(({ item, index }) => ({
      value: item,
      where: items.length === 1 ? lineLabel : `${lineLabel} entry ${index}`,
    }));
  });
}

/** Comma-separated, skipping blank items (a trailing comma); indexes count every item, from 1. */
function splitItems(text: string): { item: string; index: number }[] {
  return text
    .split(",")
    .map((item, i) => ({ item: item.trim(), index: i + 1 }))
    .filter(({ item }) => item !== "");
}

/** The token, or what is wrong with it. Splits at the first `=`: base64 tokens may end in `=`. */
function parseEntry(entry: string): AuthToken | string {
  const eq = entry.indexOf("=");
  if (eq === -1) return 'expected name=token (no "=" found)';
  const name = entry.slice(0, eq).trim();
  const token = entry.slice(eq + 1).trim();
  if (name === "") return "empty name";
  if (!TOKEN_NAME_PATTERN.test(name)) return 'name may only contain letters, digits, ".", "_", "@" and "-"';
  if (token === "") return "empty token";
  if (!TOKEN_VALUE_PATTERN.test(token)) return "token must be printable ASCII without spaces or commas";
  if (token.length < MIN_TOKEN_LENGTH) return shortTokenProblem(name);
  return { name, token };
}
