import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Runs a command in a private mount namespace whose /etc carries an overlay with `upper` on top:
 * the CLI then reads `upper/claude-code/managed-settings.json` as /etc/claude-code/…, while the
 * host's /etc, which every other test shares, is never written. Needs root (or CAP_SYS_ADMIN).
 */
export function inManagedEtc(upper: string, work: string, bin: string, args: readonly string[]) {
  return {
    file: "unshare",
    args: [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && shift 2 && exec "$@"',
      "sh",
      upper,
      work,
      bin,
      ...args,
    ],
  };
}

/** Whether this machine lets us overlay /etc in a private mount namespace (root in most CI). */
export function canOverlayEtc(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "cg-etc-probe-"));
  try {
    mkdirSync(join(dir, "upper"));
    mkdirSync(join(dir, "work"));
    const { file, args } = inManagedEtc(join(dir, "upper"), join(dir, "work"), "true", []);
    execFileSync(file, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
