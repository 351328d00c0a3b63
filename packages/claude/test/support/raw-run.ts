import { spawn } from "node:child_process";

export interface RawRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI with exactly these arguments, the prompt on stdin: for facts about flags the product's
 * argv builder does not emit (yet), so that the fact is proven before code depends on it.
 */
export function runRaw(
  bin: string,
  args: readonly string[],
  opts: { cwd: string; env: Record<string, string>; input: string },
): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}
