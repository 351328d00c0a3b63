import { z } from "zod";

/** One entry of the user database, as `getent passwd <name>` prints it. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** Parses `name:x:uid:gid:gecos:home:shell`; undefined when it is not such a line. */
export function parsePasswdLine(line: string): PasswdEntry | undefined {
  const fields = line.trim().split(":");
  if (fields.length !== 7) return undefined;
  const [name, , uid, gid] = fields;
  if (!name || !/^\d+$/.test(uid ?? "") || !/^\d+$/.test(gid ?? "")) return undefined;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** The user that runs the agents of concurrency slot `slot`: `<base>-<slot>`. */
export function runnerUserName(base: string, slot: number): string {
  return `${base}-${slot}`;
}

/** Why `base` cannot name runner users (useradd's portable rules, leaving room for `-<slot>`). */
export function runnerUserProblem(base: string): string | undefined {
  if (!/^[a-z_][a-z0-9_-]*$/.test(base))
    return "must be lowercase letters, digits, '_' or '-', not starting with a digit or '-'";
  if (base.length > 24) return "must be at most 24 characters (slots add '-<n>')";
  return undefined;
}

/** `RUNNER_USER`, as the executor and the runner both read it. */
export const RunnerUserSetting = z
  .string()
  .default("claude-runner")
  .superRefine((v, ctx) => {
    const problem = runnerUserProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
