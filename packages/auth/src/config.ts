import { readFileSync } from "node:fs";
import { AuthConfigError } from "./errors.js";
import { AuthConfig, type AuthToken, DEFAULT_AUTHENTIK_SECRET_HEADER, headerNameProblem } from "./schema.js";
import { parseTokenList } from "./tokens.js";

/** Reads a UTF-8 text file; `fs.readFileSync` fits. Injected so tests need no files. */
export type ReadTextFile = (path: string, encoding: "utf8") => string;

/**
 * Builds the auth configuration from the environment:
 * - `AUTH_TOKENS`: comma-separated `name=token` pairs, or
 * - `AUTH_TOKENS_FILE`: a file of such pairs (e.g. a mounted Kubernetes secret);
 *   every token at least `MIN_TOKEN_LENGTH` (16) characters, a shorter one refused by name;
 * - `AUTHENTIK_PROXY_SECRET`: enables Authentik forward-auth; the proxy must send it in
 *   `AUTHENTIK_PROXY_SECRET_HEADER` (default `x-authentik-proxy-secret`).
 * Nothing configured is valid here and yields `{ tokens: [] }`: the middleware then refuses every
 * protected request (503). Throws `AuthConfigError` listing every problem, never a secret value.
 * An empty variable counts as unset, as Kubernetes and compose files often leave them.
 */
export function loadAuthConfig(
  env: Record<string, string | undefined>,
  readFile: ReadTextFile = readFileSync,
): AuthConfig {
  const problems: string[] = [];
  const tokens = loadTokens(env, readFile, problems);
  const authentik = loadAuthentik(env, problems);
  if (problems.length > 0) throw new AuthConfigError(problems);
  return authentik === undefined ? { tokens } : { tokens, authentik };
}

function loadTokens(env: Record<string, string | undefined>, readFile: ReadTextFile, problems: string[]) {
  const inline = nonEmpty(env.AUTH_TOKENS);
  const file = nonEmpty(env.AUTH_TOKENS_FILE);
  if (inline !== undefined && file !== undefined) {
    problems.push("set AUTH_TOKENS or AUTH_TOKENS_FILE, not both");
    return [];
  }
  let result: { tokens: AuthToken[]; problems: string[] } = { tokens: [], problems: [] };
  if (inline !== undefined) result = parseTokenList(inline, "env", "AUTH_TOKENS");
  if (file !== undefined) {
    const content = readTokenFile(file, readFile, problems);
    if (content !== undefined) result = parseTokenList(content, "file", `AUTH_TOKENS_FILE (${file})`);
  }
  problems.push(...result.problems);
  return result.tokens;
}

function readTokenFile(path: string, readFile: ReadTextFile, problems: string[]): string | undefined {
  try {
    return readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(`AUTH_TOKENS_FILE: cannot read "${path}" (${code ?? String(error)})`);
    return undefined;
  }
}

function loadAuthentik(env: Record<string, string | undefined>, problems: string[]) {
  const proxySecret = nonEmpty(env.AUTHENTIK_PROXY_SECRET);
  const header = nonEmpty(env.AUTHENTIK_PROXY_SECRET_HEADER);
  if (proxySecret === undefined) {
    // A header without a secret is a half-done setup: say so rather than silently ignore it.
    if (header !== undefined)
      problems.push("AUTHENTIK_PROXY_SECRET_HEADER is set but AUTHENTIK_PROXY_SECRET is not");
    return undefined;
  }
  if (proxySecret.trim() !== proxySecret) {
    // Usually a newline from `echo secret > file`; the proxy would never send it, so nothing would match.
    problems.push("AUTHENTIK_PROXY_SECRET has leading or trailing whitespace");
  }
  const secretHeader = (header ?? DEFAULT_AUTHENTIK_SECRET_HEADER).toLowerCase();
  const headerProblem = headerNameProblem(secretHeader);
  if (headerProblem !== undefined) problems.push(`AUTHENTIK_PROXY_SECRET_HEADER: ${headerProblem}`);
  return { proxySecret, secretHeader };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

/**
 * Checks a configuration built by hand (tests, other sources) against the same rules the loader
 * applies, so `createAuth` never runs on one `loadAuthConfig` would have refused.
 */
export function parseAuthConfig(value: unknown): AuthConfig {
  const result = AuthConfig.safeParse(value);
  if (result.success) return result.data;
  // Zod leaves the input out of issues unless asked, so these messages carry no secret.
  throw new AuthConfigError(
    result.error.issues.map((issue) =>
      issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`,
    ),
    { cause: result.error },
  );
}
