import { z } from "zod";

// The executor ↔ runner wire: one Unix-socket connection per request, newline-delimited JSON. The
// runner is root and holds no service secret; the executor holds them and is not root. Only the
// executor's user may connect (the socket is its, mode 0600).

const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
const Path = z.string().min(1).max(4096).startsWith("/");

export const LaunchSpecWire = z.object({
  file: Path,
  args: z.array(z.string().max(1_000_000)).max(1000),
  cwd: Path,
  env: z.record(z.string(), z.string()),
  input: z.string().optional(),
  runId: z.string().min(1).max(128),
  killGraceMs: z.number().int().min(0).max(600_000).optional(),
});

export const RunnerRequest = z.discriminatedUnion("op", [
  z.object({ op: z.literal("ping") }),
  z.object({ op: z.literal("open"), jobId: JobId }),
  z.object({ op: z.literal("adopt"), jobId: JobId, dir: Path }),
  z.object({ op: z.literal("place"), jobId: JobId, from: Path, to: Path }),
  z.object({ op: z.literal("take"), jobId: JobId, path: Path, to: Path }),
  z.object({ op: z.literal("reap"), jobId: JobId }),
  z.object({ op: z.literal("close"), jobId: JobId }),
  /** Starts the job's CLI as the job's user; the connection then carries its output until it exits. */
  z.object({ op: z.literal("launch"), jobId: JobId, spec: LaunchSpecWire }),
]);
export type RunnerRequest = z.infer<typeof RunnerRequest>;

/** What a client may send on a launch connection after the request. */
export const LaunchControl = z.discriminatedUnion("op", [
  z.object({ op: z.literal("stop") }),
  z.object({ op: z.literal("reap") }),
  z.object({ op: z.literal("stdin"), data: z.string() }),
  z.object({ op: z.literal("stdin_end") }),
]);
export type LaunchControl = z.infer<typeof LaunchControl>;

export const SandboxWire = z.object({
  home: Path,
  configDir: Path,
  staging: Path,
  env: z.record(z.string(), z.string()),
  runAs: z.object({ uid: z.number().int(), gid: z.number().int() }).optional(),
  user: z.string().optional(),
});
export type SandboxWire = z.infer<typeof SandboxWire>;

export const RunnerReply = z.union([
  z.object({
    ok: z.literal(true),
    sandbox: SandboxWire.optional(),
    pids: z.array(z.number().int()).optional(),
    problem: z.string().optional(),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type RunnerReply = z.infer<typeof RunnerReply>;

/** A launch connection's events, in order: `pid`, then output, then `exit` (`stopped`/`reaped` answer controls). */
export const LaunchEvent = z.discriminatedUnion("t", [
  z.object({ t: z.literal("pid"), pid: z.number().int().optional() }),
  z.object({ t: z.literal("out"), d: z.string() }),
  z.object({ t: z.literal("err"), d: z.string() }),
  z.object({
    t: z.literal("exit"),
    exitCode: z.number().int().optional(),
    signal: z.string().optional(),
    code: z.string().optional(),
  }),
  z.object({ t: z.literal("stopped") }),
  z.object({ t: z.literal("reaped"), pids: z.array(z.number().int()) }),
  z.object({ t: z.literal("error"), error: z.string() }),
]);
export type LaunchEvent = z.infer<typeof LaunchEvent>;

/** Splits a byte stream into lines and hands each parsed JSON value on; a bad line ends the stream. */
export function lineReader(onValue: (value: unknown) => void, onBad: (reason: string) => void) {
  let buffer = "";
  return (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onBad("a line that is not JSON");
        return;
      }
      onValue(value);
    }
    if (buffer.length > 64 * 1024 * 1024) onBad("a line over 64 MiB");
  };
}
