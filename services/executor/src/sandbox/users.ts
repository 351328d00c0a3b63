import { execa } from "execa";
import { type PasswdEntry, parsePasswdLine } from "./passwd.js";

export class RunnerUserError extends Error {
  override readonly name = "RunnerUserError";
}

/** Looks a user up through NSS (`getent`), so users from any source count. */
export async function lookupUser(name: string): Promise<PasswdEntry | undefined> {
  const r = await execa("getent", ["passwd", name], { reject: false });
  if (r.exitCode !== 0) return undefined;
  return parsePasswdLine(r.stdout);
}

/**
 * The runner users `names` (one per slot, see `claimRunnerNames`), created when missing: system users
 * with their own group, no home and no login shell. An image with a read-only root filesystem must
 * carry them already (the Dockerfile creates them).
 */
export async function ensureRunnerUsers(names: readonly string[]): Promise<PasswdEntry[]> {
  const users: PasswdEntry[] = [];
  for (const name of names) {
    let entry = await lookupUser(name);
    if (!entry) {
      const r = await execa(
        "useradd",
        [
          "--system",
          "--user-group",
          "--no-create-home",
          "--home-dir",
          "/nonexistent",
          "--shell",
          "/usr/sbin/nologin",
          name,
        ],
        { reject: false },
      );
      // Another process may have created it meanwhile: look again either way.
      entry = await lookupUser(name);
      if (!entry) {
        throw new RunnerUserError(
          `runner user ${name} does not exist and could not be created (${String(r.stderr || r.shortMessage || "").trim()}): create the runner users in the image, or lower MAX_CONCURRENCY / RUNNER_SLOTS`,
        );
      }
    }
    if (entry.uid === 0 || entry.gid === 0) throw new RunnerUserError(`runner user ${name} must not be root`);
    users.push(entry);
  }
  const uids = new Set(users.map((u) => u.uid));
  if (uids.size !== users.length) throw new RunnerUserError("runner users must have distinct uids");
  return users;
}
