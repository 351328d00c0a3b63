import type { Logger } from "@claude-gateway/service-kit/log";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: object;
}

export interface RecordingLogger extends Logger {
  /** Every line logged so far, in order. */
  readonly lines: LogLine[];
  /** The next line with this message (lines already logged do not count): wait on it, never sleep. */
  next(msg: string): Promise<LogLine>;
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const waiters: Array<{ msg: string; resolve: (line: LogLine) => void }> = [];
  const record = (level: LogLine["level"]) => (fields: object, msg?: string) => {
    const line = { level, msg: msg ?? "", fields };
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.msg === line.msg) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  return {
    lines,
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    next: (msg) => new Promise((resolve) => waiters.push({ msg, resolve })),
  };
}
