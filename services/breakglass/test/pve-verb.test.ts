import { tempDir } from "@claude-gateway/testkit";
import { execa } from "execa";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  EXPECTED_CALLS,
  type FakeProxmox,
  fakeProxmox,
  PVE_VERB_SCRIPT,
  REFUSED_COMMANDS,
} from "./support/fake-proxmox.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let pve: FakeProxmox;

beforeAll(async () => {
  dir = await tempDir("bg-pve-verb-");
});
afterAll(async () => {
  await dir?.cleanup();
});
beforeEach(async () => {
  pve = await fakeProxmox(dir.dir);
});

/** Runs the script as sshd would: the request in SSH_ORIGINAL_COMMAND, a bare environment. */
const run = (command: string | undefined, env: Record<string, string> = {}) =>
  execa("bash", [PVE_VERB_SCRIPT], {
    env: {
      PATH: "/usr/bin:/bin",
      QM_BIN: pve.qm,
      PVENODE_BIN: pve.pvenode,
      ...(command === undefined ? {} : { SSH_ORIGINAL_COMMAND: command }),
      ...env,
    },
    extendEnv: false,
    reject: false,
  });

describe("pve-verb.sh (run directly)", () => {
  it.each(Object.entries(EXPECTED_CALLS))("%s runs exactly %j", async (verb, calls) => {
    const r = await run(verb);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await pve.calls()).toEqual(calls);
    expect(r.stdout).toContain(`pve-verb: ${verb} done (VM 102)`);
  });

  it("forensics prints every section", async () => {
    const r = await run("forensics");
    expect(r.stdout).toContain("== qm status 102 --verbose ==");
    expect(r.stdout).toContain("== qm config 102 ==");
    expect(r.stdout).toContain("name: devvm");
    expect(r.stdout).toContain("UPID:pve");
  });

  it("cycle of a stopped VM only starts it", async () => {
    await pve.setRunning(false);
    const r = await run("cycle");
    expect(r.exitCode).toBe(0);
    expect(await pve.calls()).toEqual(["qm status 102", "qm start 102"]);
  });

  it("the VM id is the host's (PVE_VMID), never the client's", async () => {
    const r = await run("reset", { PVE_VMID: "215" });
    expect(r.exitCode).toBe(0);
    expect(await pve.calls()).toEqual(["qm reset 215"]);
    const bad = await run("reset", { PVE_VMID: "102; id" });
    expect(bad.exitCode).toBe(2);
    expect(await pve.calls()).toEqual(["qm reset 215"]);
  });

  it("no command at all (an interactive login) is refused", async () => {
    const r = await run(undefined);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("pve-verb: refused");
  });

  it.each(REFUSED_COMMANDS)("refuses %j with exit 2, calling nothing", async (command) => {
    const r = await run(command);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^pve-verb: refused; the only commands are: status forensics reset stop start cycle$/m,
    );
    expect(r.stdout).toBe("");
    expect(await pve.calls()).toEqual([]);
  });

  it("a failing qm fails the verb with its status", async () => {
    const r = await run("start", { QM_BIN: "/bin/false" });
    expect(r.exitCode).not.toBe(0);
  });
});
