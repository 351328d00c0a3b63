import type { LogLevel } from "@claude-gateway/afk-core";
import pino from "pino";

/** The logger methods the tick calls; a pino logger fits as is. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "afk-poller" },
    redact: ["*.token", "*.authorization", "*.webhookUrl"],
  });
}
