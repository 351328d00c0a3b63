import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The forced-command script this service ships for the Proxmox host. */
export const PVE_VERB_SCRIPT = fileURLToPath(
  new URL("../../../../deploy/breakglass/pve-verb.sh", import.meta.url),
);

export interface FakeProxmox {
  qm: string;
  pvenode: string;
  /** Every call, one line each: `qm status 102 --verbose`. */
  calls(): Promise<string[]>;
  /** Whether the fake VM runs (decides what `qm status` prints). */
  setRunning(running: boolean): Promise<void>;
}

/** `qm` and `pvenode` stand-ins that record their arguments and print what the real ones would. */
export async function fakeProxmox(dir: string): Promise<FakeProxmox> {
  const log = join(dir, "calls.log");
  const state = join(dir, "vm-stopped");
  await writeFile(log, "");
  await rm(state, { force: true });
  const qm = join(dir, "qm");
  const pvenode = join(dir, "pvenode");
  await writeFile(
    qm,
    `#!/bin/sh
printf 'qm %s\\n' "$*" >> '${log}'
case "$1" in
  status) if [ -e '${state}' ]; then echo "status: stopped"; else echo "status: running"; fi
          [ "$3" = "--verbose" ] && echo "cpus: 4" && echo "maxmem: 8589934592" ;;
  config) echo "name: devvm"; echo "memory: 8192" ;;
  shutdown|stop) touch '${state}'; echo "stopped" ;;
  start) rm -f '${state}'; echo "started" ;;
  reset) echo "reset" ;;
  *) echo "qm: unknown command $1" >&2; exit 255 ;;
esac
`,
  );
  await writeFile(
    pvenode,
    `#!/bin/sh
printf 'pvenode %s\\n' "$*" >> '${log}'
echo "UPID:pve:0001:qmstart:102:root@pam: OK"
`,
  );
  await chmod(qm, 0o755);
  await chmod(pvenode, 0o755);
  return {
    qm,
    pvenode,
    calls: async () => (await readFile(log, "utf8")).split("\n").filter((l) => l !== ""),
    setRunning: async (running) => {
      if (running) await rm(state, { force: true });
      else await writeFile(state, "");
    },
  };
}

/** What each verb must make the host run, for VM 102. */
export const EXPECTED_CALLS: Record<string, string[]> = {
  status: ["qm status 102 --verbose"],
  forensics: ["qm status 102 --verbose", "qm config 102", "pvenode task list --vmid 102 --limit 10"],
  reset: ["qm reset 102"],
  stop: ["qm shutdown 102 --timeout 120 --forceStop 1"],
  start: ["qm start 102"],
  cycle: ["qm status 102", "qm shutdown 102 --timeout 120 --forceStop 1", "qm start 102"],
};

/** Commands the forced command must refuse (exit 2) without calling qm. */
export const REFUSED_COMMANDS: string[] = [
  "",
  "reset; rm -rf /",
  "status && id",
  "status | sh",
  "$(id)",
  "`id`",
  "status\nreset",
  "status ",
  " status",
  "STATUS",
  "reset 101",
  "status --verbose",
  "qm reset 102",
  "rеset",
  "re\u200bset",
  "../status",
  "/usr/sbin/qm status 102",
  "list",
  "destroy",
  "sh",
  "bash -i",
  "-o ProxyCommand=touch /tmp/x status",
];
