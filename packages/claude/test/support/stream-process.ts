import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A bare driver for one long-lived `claude -p --input-format stream-json` process, to prove what
 * the CLI itself does with stdin messages and control requests. Tests of CLI facts only: it is
 * deliberately not the product's warm-process runner.
 */
export interface StreamProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far, parsed. */
  readonly lines: Record<string, unknown>[];
  send(message: Record<string, unknown>): void;
  user(text: string): void;
  /** The first line at or after index `from` that matches, waiting for it if need be. */
  next(match: (line: Record<string, unknown>) => boolean, from?: number): Promise<Record<string, unknown>>;
  /** Sends a user message and waits for that turn's `result` line. */
  turn(text: string): Promise<Record<string, unknown>>;
  close(): Promise<number | null>;
}

export function startStreamProcess(
  bin: string,
  args: readonly string[],
  opts: { env: Record<string, string>; cwd: string; timeoutMs?: number },
): StreamProcess {
  const child = spawn(
    bin,
    ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose", ...args],
    { env: opts.env, cwd: opts.cwd },
  );
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  let exited = false;
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.trim() === "") return;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ type: "not_json", line });
    }
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      exited = true;
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );

  const send = (message: Record<string, unknown>) => {
    child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  const next: StreamProcess["next"] = (match, from = 0) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching line in time; last lines: ${JSON.stringify(lines.slice(-3))}`));
      }, opts.timeoutMs ?? 45_000);
      const check = () => {
        const found = lines.slice(from).find(match);
        if (found) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        } else if (exited) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`the CLI exited; stderr: ${stderr.slice(-500)}`));
        }
      };
      waiters.add(check);
      check();
    });
  const user = (text: string) => send({ type: "user", message: { role: "user", content: text } });

  return {
    child,
    lines,
    send,
    user,
    next,
    turn: (text) => {
      const from = lines.length;
      user(text);
      return next((l) => l.type === "result", from);
    },
    close: () => {
      child.stdin.end();
      return closed;
    },
  };
}

/** Kills a test's process if it still runs (a failed assertion leaves it waiting on stdin). */
export async function killStreamProcess(p: StreamProcess | undefined): Promise<void> {
  if (p && p.child.exitCode === null) {
    p.child.kill("SIGKILL");
    await p.close();
  }
}
