/**
 * The child gets only what the CLI needs: its login, where the API is, a HOME, a PATH, locale
 * and proxy settings. The service's own secrets (auth tokens, NATS credentials…) never reach it.
 */
export const CLI_ENV_ALLOWLIST = [
  "HOME",
  "PATH",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  "TERM",
  "ANTHROPIC_BASE_URL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CONFIG_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  // Lets the CLI skip permission checks as root; only for sandboxes (containers run as non-root).
  "IS_SANDBOX",
] as const;

/** Defaults that make a wrapped CLI fail fast and stay quiet; a caller may override each. */
export const CLI_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  // The CLI retries 10 times by default (minutes for a persistent 5xx); we own retries and the clock.
  CLAUDE_CODE_MAX_RETRIES: "2",
  // Per-attempt API timeout; our wall-clock deadline still bounds the whole run.
  API_TIMEOUT_MS: "120000",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  DISABLE_AUTOUPDATER: "1",
};

/** Set in every child, inherited by every tool process: finds stragglers after a run. */
export const RUN_MARKER_VAR = "CLAUDE_GATEWAY_RUN_ID";

export interface ChildEnvOptions {
  /** Extra variable names to copy from the source environment (e.g. `SSH_AUTH_SOCK`). */
  passthrough?: readonly string[];
  /** Variables set verbatim, after defaults (e.g. `HOME` per job, `IS_SANDBOX`). */
  set?: Readonly<Record<string, string>>;
  runId: string;
}

export function buildChildEnv(
  source: Readonly<Record<string, string | undefined>>,
  opts: ChildEnvOptions,
): Record<string, string> {
  const env: Record<string, string> = { ...CLI_ENV_DEFAULTS };
  for (const name of [...CLI_ENV_ALLOWLIST, ...(opts.passthrough ?? [])]) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  // Caller-provided CLI tuning from the source env wins over our defaults.
  for (const name of Object.keys(CLI_ENV_DEFAULTS)) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, opts.set ?? {});
  env[RUN_MARKER_VAR] = opts.runId;
  return env;
}
