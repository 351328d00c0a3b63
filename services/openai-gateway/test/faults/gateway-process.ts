import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { World } from "../harness.js";

/** A built gateway (`dist/main.js`) as its own process: one that can really be killed or frozen. */
export interface GatewayProcess {
  child: ChildProcess;
  /** Its HTTP address. */
  url: string;
  /** Its error log lines (pino level 50): each one is a failure worth reading. */
  errors: string[];
  /** Every log line, in order. */
  logs: string[];
}

const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));

/** Starts a gateway process on the world's NATS and policy; resolves once it listens. */
export function spawnGateway(world: World, env: Record<string, string> = {}): Promise<GatewayProcess> {
  // At `info` it logs the line that says it listens, and on which port.
  const child = spawn(process.execPath, [MAIN], {
    env: world.gatewayEnv({ LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.resume();
  const errors: string[] = [];
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      logs.push(line);
      if (/"level":50/.test(line)) errors.push(line.slice(0, 1500));
      if (!line.includes('"gateway started"')) return;
      const { port } = JSON.parse(line) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}`, errors, logs });
    });
    child.once("exit", (code, signal) => reject(new Error(`gateway exited with ${code ?? signal}`)));
  });
}

/** SIGTERM (after SIGCONT, should it be frozen) and wait for the exit, unless it already exited. */
export async function stopGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGCONT");
  child.kill("SIGTERM");
  await exited;
}

/** Resolves once the process has exited (after a signal that ends it). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}
