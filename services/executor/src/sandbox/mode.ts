import type { IsolationMode } from "./sandbox.js";

/** `AGENT_ISOLATION`: `auto` picks `users` when the service runs as root, and refuses otherwise. */
export type IsolationSetting = "auto" | IsolationMode;

/**
 * The isolation the executor runs with, or why it cannot start: nothing is open by default, so a
 * service that cannot run agents as other users says so instead of silently running them as itself.
 */
export function isolationMode(
  setting: IsolationSetting,
  uid: number,
): { mode: IsolationMode } | { problem: string } {
  if (setting === "none") return { mode: "none" };
  if (uid === 0) return { mode: "users" };
  return {
    problem:
      setting === "users"
        ? `AGENT_ISOLATION=users needs the executor to run as root (it runs as uid ${uid}): it switches each job to its slot's runner user`
        : `the executor runs as uid ${uid}, so it cannot run agents as other users and they could read its secrets: run it as root (agents then run as per-slot runner users, RUNNER_USER) or set AGENT_ISOLATION=none to accept that, e.g. on a developer's machine`,
  };
}
