import type { TickLogger } from "../run-tick.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

/** A tick logger that keeps what it was told, for assertions. */
export function recordingLogger(): TickLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
