import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface RawRunOptions {
  cwd: string;
  env: Record<string, string>;
  prompt: string;
  /** Killed after this long (a hung run would stall the whole benchmark). */
  timeoutMs?: number;
}

export interface RawRun {
  /** Spawn until the process has exited and closed its output. */
  ms: number;
  stdout: string;
}

/**
 * The bare CLI (or a wrapper such as GNU time around it), the prompt on stdin, timed from spawn
 * to close. A run that fails rejects: a benchmark must not time something other than the work.
 */
export function timeRawRun(file: string, args: readonly string[], opts: RawRunOptions): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      const failed = code !== 0 || !/"is_error":\s*false/.test(stdout);
      if (failed) {
        reject(
          new Error(`${file} failed (exit ${code ?? signal}): ${stdout.slice(0, 300)} ${stderr.slice(-300)}`),
        );
      } else {
        resolve({ ms, stdout });
      }
    });
    child.stdin.end(opts.prompt);
  });
}
