/** `AGENT_ISOLATION`: `auto` picks `runner` with a RUNNER_SOCKET, else `users` as root, else refuses. */
export type IsolationSetting = "auto" | "users" | "none";

/**
 * `runner`: a root runner process beside the executor (RUNNER_SOCKET) runs each job as its slot's
 * user; `users`: the executor, being root, does that itself; `none`: agents run as the service.
 */
export type Isolation = "runner" | "users" | "none";

/**
 * The isolation the executor runs with, or why it cannot start: nothing is open by default, so a
 * service that cannot run agents as other users says so instead of silently running them as itself.
 */
export function isolationMode(
  setting: IsolationSetting,
  uid: number,
  runnerSocket?: string,
): { mode: Isolation } | { problem: string } {
  if (setting === "none") return { mode: "none" };
  if (runnerSocket) return { mode: "runner" };
  if (uid === 0) return { mode: "users" };
  return {
    problem:
      setting === "users"
        ? `AGENT_ISOLATION=users needs the executor to run as root (it runs as uid ${uid}) or a runner (RUNNER_SOCKET)`
        : `the executor runs as uid ${uid}, so it cannot run agents as other users and they could read its secrets: give it a runner (RUNNER_SOCKET; see services/executor/README.md), run it as root, or set AGENT_ISOLATION=none to accept that, e.g. on a developer's machine`,
  };
}
