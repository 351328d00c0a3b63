import { existsSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import type { Logger } from "@claude-gateway/service-kit/log";
import { execa } from "execa";
import { RUN_MARKER_VAR } from "./child-env.js";
import { reapRun, reapUid } from "./reaper.js";
import { runStopper } from "./stop-run.js";

/** What to start, where, and as whom. */
export interface LaunchSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed; without it stdin stays open (`Launched.stdin`). */
  input?: string;
  /** An unprivileged user that belongs to this run alone (the launcher must be root). */
  runAs?: { uid: number; gid: number };
  /** The run's marker (`RUN_MARKER_VAR`), which every process it starts inherits. */
  runId: string;
  /** How long SIGINT gets before SIGTERM, then SIGKILL. */
  killGraceMs?: number;
}

export interface LaunchExit {
  exitCode?: number;
  signal?: string;
  /** Why it could not be spawned (`ENOENT`, `EACCES`…). */
  code?: string;
}

/** A started process, wherever it runs: this process's child, or a runner's across a socket. */
export interface Launched {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Open only when the spec gave no `input`. */
  readonly stdin: Writable | undefined;
  readonly exit: Promise<LaunchExit>;
  /** SIGINT, then SIGTERM and SIGKILL to its group, then whatever it left behind. Once, however often called. */
  stop(): Promise<void>;
  /** After the exit: kills what the run left running (by marker, and by uid with `runAs`); the pids. */
  reap(): Promise<number[]>;
}

/** Starts processes; `localLauncher` spawns them here, a runner client elsewhere. */
export type Launcher = (spec: LaunchSpec, log: Logger) => Launched;

/**
 * util-linux's `setpriv`, which asks the kernel to SIGKILL the CLI when the process that started it
 * dies (`PR_SET_PDEATHSIG`): a service killed with SIGKILL (OOM, a crash) cannot stop its CLIs, and
 * one waiting on an open API request would otherwise run on until the API answers. Debian's images
 * have it (util-linux is essential); without it the CLI starts as before and a warning says so.
 */
export const PDEATHSIG_WRAPPER = "/usr/bin/setpriv";
let pdeathsig: boolean | undefined;

/** The command that starts `file`: under `setpriv --pdeathsig KILL` where this machine has it. */
export function withParentDeathSignal(
  file: string,
  args: readonly string[],
  wrapper: string | undefined,
): { file: string; args: string[] } {
  return wrapper
    ? { file: wrapper, args: ["--pdeathsig", "KILL", "--", file, ...args] }
    : { file, args: [...args] };
}

/**
 * The exit as if the CLI had been spawned directly: `setpriv` exits 127 when the file is not found
 * and 126 when it cannot be executed (the CLI itself exits 0 or 1), which a direct spawn reports
 * as ENOENT and EACCES.
 */
export function wrappedExit(exit: LaunchExit, wrapped: boolean): LaunchExit {
  if (!wrapped || exit.code !== undefined) return exit;
  if (exit.exitCode === 127) return { code: "ENOENT" };
  if (exit.exitCode === 126) return { code: "EACCES" };
  return exit;
}

export const localLauncher: Launcher = (spec, log) => {
  if (pdeathsig === undefined) {
    pdeathsig = existsSync(PDEATHSIG_WRAPPER);
    if (!pdeathsig)
      log.warn(
        { wrapper: PDEATHSIG_WRAPPER },
        "setpriv not found: a CLI outlives this service if the service is SIGKILLed (install util-linux)",
      );
  }
  const command = withParentDeathSignal(spec.file, spec.args, pdeathsig ? PDEATHSIG_WRAPPER : undefined);
  // libuv switches user (runAs) before exec: the death signal, set by setpriv after it, survives.
  const child = execa(command.file, command.args, {
    cwd: spec.cwd,
    env: { ...spec.env },
    extendEnv: false,
    ...(spec.input !== undefined ? { input: spec.input } : { stdin: "pipe" }),
    // Its own process group, so SIGTERM/SIGKILL reach every process the CLI started in it.
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    // libuv drops the supplementary groups when it switches user: the child keeps none of ours.
    ...(spec.runAs ? { uid: spec.runAs.uid, gid: spec.runAs.gid } : {}),
  });
  const exit: Promise<LaunchExit> = child.then((r) =>
    wrappedExit(
      {
        ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
        ...(r.signal !== undefined ? { signal: r.signal } : {}),
        ...(r.code !== undefined ? { code: r.code } : {}),
      },
      command.file !== spec.file,
    ),
  );
  const stop = runStopper({ pid: child.pid, exit, runId: spec.runId, killGraceMs: spec.killGraceMs, log });
  return {
    pid: child.pid,
    stdout: child.stdout!,
    stderr: child.stderr!,
    stdin: spec.input === undefined ? (child.stdin ?? undefined) : undefined,
    exit,
    stop,
    // A run's own user is the sure net (nothing sheds it); the marker is the net without one.
    reap: () => (spec.runAs ? reapUid(spec.runAs.uid) : reapRun(RUN_MARKER_VAR, spec.runId, [])),
  };
};
