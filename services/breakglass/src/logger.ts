import { createLogger } from "@claude-gateway/service-kit";
import type { Logger } from "pino";

/**
 * Breakglass's JSON logger: service-kit's, so its line carries the service name and every secret
 * the kit knows of (tokens, `AUTH_TOKENS`, authorization headers, the CLI's keys) is redacted.
 */
export function breakglassLogger(level: string): Logger {
  return createLogger("breakglass", level);
}
