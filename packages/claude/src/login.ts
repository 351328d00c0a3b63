import { existsSync } from "node:fs";
import { join } from "node:path";
import { claudeConfigDir } from "./sessions.js";

export type LoginStatus = { ok: true; via: string } | { ok: false; reason: string };

/**
 * Whether the CLI has something to log in with: an OAuth token or API key in its environment, or
 * a login stored under its config dir (`claude /login` writes `.credentials.json`). A service
 * without one still starts, reports not-ready and answers 503 `claude_not_authenticated`.
 */
export function detectClaudeLogin(
  env: Readonly<Record<string, string | undefined>>,
  fileExists: (path: string) => boolean = existsSync,
): LoginStatus {
  if (env.CLAUDE_CODE_OAUTH_TOKEN) return { ok: true, via: "CLAUDE_CODE_OAUTH_TOKEN" };
  if (env.ANTHROPIC_API_KEY) return { ok: true, via: "ANTHROPIC_API_KEY" };
  if (env.ANTHROPIC_AUTH_TOKEN) return { ok: true, via: "ANTHROPIC_AUTH_TOKEN" };
  let dir: string | undefined;
  try {
    dir = claudeConfigDir(env);
  } catch {
    dir = undefined;
  }
  if (dir && fileExists(join(dir, ".credentials.json"))) return { ok: true, via: `${dir}/.credentials.json` };
  return {
    ok: false,
    reason:
      "the claude CLI has no login: set CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) or log in under HOME (`claude /login`)",
  };
}

/** For a readiness check: why the CLI cannot run for lack of a login, or undefined. */
export function loginProblem(
  env: Readonly<Record<string, string | undefined>>,
  fileExists?: (path: string) => boolean,
): string | undefined {
  const login = detectClaudeLogin(env, fileExists);
  return login.ok ? undefined : `claude_not_authenticated: ${login.reason}`;
}
