/**
 * The few logger methods this package calls. A pino logger fits as is
 * (`logger.warn({ server }, "nats disconnected")`).
 */
export interface NatsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: NatsLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
