import { execa } from "execa";
import { type PasswdEntry, parsePasswdLine, runnerUserName } from "./passwd.js";

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
 * The runner users of every slot (`<base>-0` … `<base>-<count-1>`), created when missing: system
 * users with their own group, no home and no login shell. An image with a read-only root filesystem
 * must carry them already (the Dockerfile creates them).
 */
export async function ensureRunnerUsers(base: string, count: number): Promise<PasswdEntry[]> {
  const users: PasswdEntry[] = [];
  for (let slot = 0; slot < count; slot++) {
    const name = runnerUserName(base, slot);
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
      entry = await lookupUser(name);
      if (!entry) {
        throw new RunnerUserError(
          `runner user ${name} does not exist and could not be created (${String(r.stderr || r.shortMessage || "").trim()}): create users ${runnerUserName(base, 0)}…${runnerUserName(base, count - 1)} in the image, or lower MAX_CONCURRENCY`,
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
