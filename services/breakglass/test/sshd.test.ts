import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventually, tempDir } from "@claude-gateway/testkit";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshPveRunner } from "../src/adapters/ssh-runner.js";
import { VERBS } from "../src/core/verbs.js";
import type { PveRunner } from "../src/ports.js";
import { type SshSetup, setupSsh } from "../src/ssh-setup.js";
import {
  EXPECTED_CALLS,
  type FakeProxmox,
  fakeProxmox,
  PVE_VERB_SCRIPT,
  REFUSED_COMMANDS,
} from "./support/fake-proxmox.js";
import { isAlive, processesMentioning } from "./support/procs.js";
import { startTestSshd, type TestSshd } from "./support/sshd.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let pve: FakeProxmox;
let sshd: TestSshd;
let ssh: SshSetup;
let runner: PveRunner;
let knownHosts: string;

beforeAll(async () => {
  dir = await tempDir("bg-sshd-");
  await mkdir(join(dir.dir, "pve"));
  pve = await fakeProxmox(join(dir.dir, "pve"));
  sshd = await startTestSshd({
    dir: dir.dir,
    forcedCommand: PVE_VERB_SCRIPT,
    // The test host's stand-ins for qm and pvenode; a real host has neither variable.
    setEnv: { QM_BIN: pve.qm, PVENODE_BIN: pve.pvenode, PVE_VMID: "102" },
  });
  knownHosts = join(dir.dir, "known_hosts");
  await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
  const host = { hostName: "127.0.0.1", user: sshd.user, port: sshd.port };
  ssh = await setupSsh({
    // Both aliases reach this server; its forced command answers for either.
    hosts: { devvm: host, pve: host },
    keyFile: sshd.clientKey,
    knownHostsFile: knownHosts,
    stateDir: join(dir.dir, "state"),
  });
  if (!ssh.configPath) throw new Error(`ssh setup failed: ${ssh.problems.join("; ")}`);
  runner = sshPveRunner({
    sshBin: ssh.sshBin,
    configPath: ssh.configPath,
    timeoutMs: 60_000,
    maxOutputBytes: 64 * 1024,
  });
});

afterAll(async () => {
  const agentPid = ssh?.agentPid;
  await ssh?.stop();
  await sshd?.stop();
  // Nothing left: no sshd (listener or session) on our config, no ssh-agent.
  if (dir) expect(await processesMentioning(dir.dir)).toEqual([]);
  if (agentPid) expect(isAlive(agentPid)).toBe(false);
  await dir?.cleanup();
});

const newCalls = async (before: number) => (await pve.calls()).slice(before);

describe("the key's forced command on a real sshd", () => {
  it("setupSsh loaded the key into its own agent and wrote the aliases", async () => {
    expect(ssh.aliases).toEqual(["devvm", "pve"]);
    expect(ssh.problems).toEqual([]);
    expect(ssh.childEnv.SSH_AUTH_SOCK).toBe(join(dir.dir, "state", "agent.sock"));
    const listed = await execa("ssh-add", ["-L"], { env: ssh.childEnv });
    expect(listed.stdout).toContain("breakglass-test");
    const config = await readFile(ssh.configPath!, "utf8");
    expect(config).toContain(`UserKnownHostsFile "${knownHosts}"`);
  });

  it.each(VERBS)("%s reaches the script, which runs exactly the expected qm calls", async (verb) => {
    const before = (await pve.calls()).length;
    const r = await runner.run(verb);
    expect(r.exitCode, r.output).toBe(0);
    expect(r).toMatchObject({ verb, ok: true, timedOut: false, truncated: false });
    expect(r.output).toContain(`pve-verb: ${verb} done (VM 102)`);
    expect(await newCalls(before)).toEqual(EXPECTED_CALLS[verb]);
  });

  it.each(REFUSED_COMMANDS)(
    "any other command (%j) is refused by the script: exit 2, qm untouched",
    async (command) => {
      const before = (await pve.calls()).length;
      const r = await execa(ssh.sshBin, ["-F", ssh.configPath!, "--", "pve", command], { reject: false });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(
        "pve-verb: refused; the only commands are: status forensics reset stop start cycle",
      );
      expect(await newCalls(before)).toEqual([]);
    },
  );

  it("output is capped", async () => {
    const small = sshPveRunner({
      sshBin: ssh.sshBin,
      configPath: ssh.configPath!,
      timeoutMs: 60_000,
      maxOutputBytes: 20,
    });
    const r = await small.run("forensics");
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(20);
  });

  it("host keys are checked strictly: an unknown host key fails before anything runs", async () => {
    const otherKey = join(dir.dir, "other_host");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]);
    const wrongKnownHosts = join(dir.dir, "wrong_known_hosts");
    const otherPub = (await readFile(`${otherKey}.pub`, "utf8")).split(" ").slice(0, 2).join(" ");
    await writeFile(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${otherPub}\n`);
    const strict = await setupSsh({
      hosts: { pve: { hostName: "127.0.0.1", user: sshd.user, port: sshd.port } },
      keyFile: sshd.clientKey,
      knownHostsFile: wrongKnownHosts,
      stateDir: join(dir.dir, "state-strict"),
    });
    try {
      const before = (await pve.calls()).length;
      const r = await sshPveRunner({
        sshBin: strict.sshBin,
        configPath: strict.configPath!,
        timeoutMs: 60_000,
        maxOutputBytes: 4096,
      }).run("status");
      expect(r.exitCode).toBe(255);
      expect(r.output).toMatch(/host key/i);
      expect(await newCalls(before)).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});

describe("the agent's ssh wrapper", () => {
  const wrapper = () => join(ssh.binDir, "ssh");

  it("`ssh devvm …` and `ssh pve …` go through with the pinned config", async () => {
    const before = (await pve.calls()).length;
    const r = await execa(wrapper(), ["pve", "status"], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await newCalls(before)).toEqual(["qm status 102 --verbose"]);
    const viaDevvm = await execa(wrapper(), ["devvm", "status"], { reject: false });
    expect(viaDevvm.exitCode).toBe(0);
  });

  it("an option after the alias is sent to the host as text, never read by the local ssh", async () => {
    const marker = join(dir.dir, "proxycommand-ran");
    const before = (await pve.calls()).length;
    const r = await execa(wrapper(), ["devvm", "-o", `ProxyCommand=touch ${marker}`, "status"], {
      reject: false,
    });
    // The remote forced command saw "-o ProxyCommand=… status" and refused it.
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("pve-verb: refused");
    expect(existsSync(marker)).toBe(false);
    expect(await newCalls(before)).toEqual([]);
  });

  it("why the wrapper exists: plain ssh reads options after the host and runs ProxyCommand locally", async () => {
    const marker = join(dir.dir, "proxycommand-ran-plain");
    await execa(
      ssh.sshBin,
      ["-F", ssh.configPath!, "devvm", "-o", `ProxyCommand=touch ${marker}`, "status"],
      {
        reject: false,
        timeout: 30_000,
      },
    );
    expect(existsSync(marker)).toBe(true);
  });

  it.each([
    [["otherhost", "uptime"]],
    [["-F", "/dev/null", "devvm"]],
    [["-oProxyCommand=sh", "devvm"]],
    [["root@devvm", "uptime"]],
    [[]],
  ])("refuses %j before running ssh", async (args) => {
    const r = await execa(wrapper(), args, { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("breakglass: only 'ssh devvm …' and 'ssh pve …' are available");
  });
});

describe("setupSsh without a usable key", () => {
  it.each<[string, Parameters<typeof setupSsh>[0], RegExp]>([
    [
      "nothing configured",
      { hosts: {} },
      /neither SSH_DEVVM_HOST nor SSH_PVE_HOST is set.*SSH_KEY_FILE is not set/,
    ],
    [
      "a missing key file",
      {
        hosts: { pve: { hostName: "pve", user: "root", port: 22 } },
        keyFile: "/nonexistent",
        knownHostsFile: "/dev/null",
      },
      /SSH_KEY_FILE \(\/nonexistent\) cannot be read/,
    ],
  ])("%s: no config, a wrapper that says why, and the reason for the 503", async (_name, opts, reason) => {
    const s = await setupSsh(opts);
    try {
      expect(s.configPath).toBeUndefined();
      expect(s.problems.join("; ")).toMatch(reason);
      const r = await execa(join(s.binDir, "ssh"), ["pve", "status"], { reject: false });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(reason);
    } finally {
      await s.stop();
    }
    expect(existsSync(s.binDir)).toBe(false);
  });

  it("a file that is not a key: the agent is stopped again and the reason given", async () => {
    const notAKey = join(dir.dir, "not-a-key");
    await writeFile(notAKey, "hello\n");
    const s = await setupSsh({
      hosts: { pve: { hostName: "pve", user: "root", port: 22 } },
      keyFile: notAKey,
      knownHostsFile: knownHosts,
    });
    try {
      expect(s.problems.join("; ")).toMatch(/SSH_KEY_FILE could not be loaded/);
      expect(s.agentPid).toBeUndefined();
    } finally {
      await s.stop();
    }
    await eventually(async () => (await processesMentioning(s.binDir)).length === 0, {
      what: "no agent left",
    });
  });
});
