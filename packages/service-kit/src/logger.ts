import pino, { type Logger } from "pino";

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "ANTHROPIC_API_KEY",
  "*.ANTHROPIC_API_KEY",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "*.CLAUDE_CODE_OAUTH_TOKEN",
  "AUTH_TOKENS",
  "*.AUTH_TOKENS",
];

/** The JSON logger of a service: its name on every line, secrets redacted. */
export function createLogger(service: string, level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service, ...base }, redact: { paths: REDACTED_PATHS, censor: "[redacted]" } });
}
