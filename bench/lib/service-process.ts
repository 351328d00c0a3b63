import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A built service (`dist/main.js`) as its own process, resolved once it logs `startedMsg` with
 * the port it listens on. Its stderr is the benchmark's.
 */
export async function startServiceProcess(
  main: string,
  env: Record<string, string>,
  startedMsg: string,
  /** Options for node itself, before the script (e.g. a preload). */
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeArgs, main], { env, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === startedMsg && entry.port) resolve(entry.port);
    });
    child.once("exit", (code) => reject(new Error(`${main} exited ${code}`)));
  });
  child.stdout!.resume();
  return { child, port };
}

/** SIGTERM, and wait for the exit (the service's graceful stop). */
export async function stopServiceProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** A service's warnings and errors (pino levels 40+) on stderr, so a failed run says why. */
export function echoProblems(child: ChildProcess, name: string): void {
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (/"level":(4|5|6)0/.test(line)) console.error(`[${name}] ${line.slice(0, 600)}`);
  });
}
