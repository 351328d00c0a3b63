import { execa } from "execa";

export interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

/** How a command ended. Never thrown: the manager turns failures into `WorkspaceError`s. */
export interface ExecResult {
  failed: boolean;
  timedOut: boolean;
  /** Undefined when the process did not exit on its own (not started, killed). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** What went wrong, when `failed`, without the command line (it may hold a URL with a token). */
  message: string;
}

/** Runs one command, argv as an array (no shell), and reports how it ended. */
export type Exec = (file: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;

export const execaExec: Exec = async (file, args, { cwd, env, timeoutMs }) => {
  const result = await execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    timeout: timeoutMs,
    reject: false,
    stdin: "ignore",
  });
  return {
    failed: result.failed,
    timedOut: result.timedOut,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    message: !result.failed
      ? ""
      : result.timedOut
        ? `${file} timed out after ${timeoutMs} ms`
        : result.exitCode !== undefined
          ? `${file} exited with code ${result.exitCode}`
          : result.signal !== undefined
            ? `${file} was killed by ${result.signal}`
            : `${file} could not be run: ${result.originalMessage ?? "unknown error"}`,
  };
};
