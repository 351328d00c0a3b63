import type { NatsLogger } from "../src/logger.js";

export interface LogLine {
  level: "info" | "warn" | "error";
  msg: string;
  fields: object;
}

/** A logger that remembers lines and lets a test wait for one, instead of sleeping. */
export function recordingLogger() {
  const lines: LogLine[] = [];
  const waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  const record = (level: LogLine["level"]) => (fields: object, msg?: string) => {
    const line = { level, msg: msg ?? "", fields };
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const logger: NatsLogger = { info: record("info"), warn: record("warn"), error: record("error") };
  return {
    logger,
    lines,
    /** The next line with this message (not counting lines already logged). */
    next(msg: string): Promise<LogLine> {
      return new Promise((resolve) => waiters.push({ match: (line) => line.msg === msg, resolve }));
    },
  };
}
