/**
 * The one logger interface of the workspace: the four methods packages and services call. A pino
 * logger fits as is (`logger.warn({ jobId }, "…")`); packages take it so they do not depend on
 * pino. (`packages/auth` sits below service-kit and keeps its own optional-method port.)
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};

/** Logs nothing: the default where a logger is optional. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
