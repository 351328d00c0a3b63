import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { eventually, text, toolUse } from "@claude-gateway/testkit";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import type { ChatEvent, SessionView } from "../src/core/wire.js";
import { type RunningBreakglass, startBreakglass } from "../src/start.js";
import { kinds, type ReceivedEvent, readTurn } from "../src/test-support/sse-client.js";
import { type CliWorld, startCliWorld } from "./support/cli-world.js";
import { EXPECTED_CALLS, type FakeProxmox, fakeProxmox, PVE_VERB_SCRIPT } from "./support/fake-proxmox.js";
import { startTestSshd, type TestSshd } from "./support/sshd.js";

/**
 * The human gate end to end: the real CLI (`--permission-prompt-tool stdio`) on the Messages
 * stub asks for a command, the service turns its `can_use_tool` request into a `permission` event
 * and waits for the owner. Both hosts are real sshds: `pve` runs the shipped forced command with a
 * fake `qm`, `devvm` a forced command that only records what it was asked to run.
 */

const OWNER = "owner-token-0123456789";
const OTHER = "mallory-token-0123456789";

let world: CliWorld;
let pveSshd: TestSshd;
let vmSshd: TestSshd;
let pve: FakeProxmox;
let vmLog: string;
let bg: RunningBreakglass;
let env: Record<string, string>;
const audit: Array<Record<string, unknown>> = [];

const captureLogs = () =>
  pino(
    { level: "info" },
    new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line.trim()) audit.push(JSON.parse(line));
        done();
      },
    }),
  );

const start = (extra: Record<string, string> = {}) =>
  startBreakglass(loadConfig({ ...env, ...extra }), {
    claudeEnv: world.cli.env,
    hostname: "127.0.0.1",
    logger: captureLogs(),
    killGraceMs: 2000,
  });

beforeAll(async () => {
  world = await startCliWorld("bg-gate-", () => "#!/bin/sh\nexit 99\n");
  await mkdir(join(world.dir, "pve"));
  await mkdir(join(world.dir, "vm"));
  pve = await fakeProxmox(join(world.dir, "pve"));
  pveSshd = await startTestSshd({
    dir: join(world.dir, "pve"),
    forcedCommand: PVE_VERB_SCRIPT,
    setEnv: { QM_BIN: pve.qm, PVENODE_BIN: pve.pvenode, PVE_VMID: "102" },
  });
  vmLog = join(world.dir, "vm", "ran.log");
  await writeFile(vmLog, "");
  const vmScript = join(world.dir, "vm", "fake-vm.sh");
  await writeFile(
    vmScript,
    `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${vmLog}'\necho " 10:00:00 up 3 days,  load average: 0.00"\n`,
  );
  await chmod(vmScript, 0o755);
  vmSshd = await startTestSshd({ dir: join(world.dir, "vm"), forcedCommand: vmScript });
  // One key for both hosts, as in production: the VM's sshd authorizes the pve sshd's client key.
  const pub = (await readFile(`${pveSshd.clientKey}.pub`, "utf8")).trim();
  await writeFile(join(world.dir, "vm", "authorized_keys"), `restrict,command="${vmScript}" ${pub}\n`);
  const knownHosts = join(world.dir, "known_hosts_both");
  await writeFile(knownHosts, `${pveSshd.knownHostsLine}\n${vmSshd.knownHostsLine}\n`);
  env = {
    ...world.env,
    AUTH_TOKENS: `owner=${OWNER},mallory=${OTHER}`,
    LOG_LEVEL: "info",
    SSH_BIN: "ssh",
    SSH_KEY_FILE: pveSshd.clientKey,
    SSH_KNOWN_HOSTS_FILE: knownHosts,
    SSH_PVE_HOST: "127.0.0.1",
    SSH_PVE_PORT: String(pveSshd.port),
    SSH_PVE_USER: pveSshd.user,
    SSH_DEVVM_HOST: "127.0.0.1",
    SSH_DEVVM_PORT: String(vmSshd.port),
    SSH_DEVVM_USER: vmSshd.user,
  };
  bg = await start();
  if (bg.ssh.problems.length) throw new Error(bg.ssh.problems.join("; "));
});

afterAll(async () => {
  await bg?.stop();
  await vmSshd?.stop();
  await pveSshd?.stop();
  await world?.close();
});

beforeEach(() => world.stub.reset());

const call = (method: string, path: string, body?: unknown, token = OWNER, server = bg) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
const newSession = async (server = bg) =>
  ((await (await call("POST", "/api/sessions", {}, OWNER, server)).json()) as SessionView).id;
const of = <T extends ChatEvent["type"]>(events: ReceivedEvent[], type: T) =>
  events.map((e) => e.event).filter((e): e is Extract<ChatEvent, { type: T }> => e.type === type);

/** Starts a turn whose model asks for `command` once, and reads it; `onPermission` answers prompts. */
async function turnAsking(
  command: string,
  onPermission: (p: Extract<ChatEvent, { type: "permission" }>, sessionId: string) => Promise<void> | void,
  server = bg,
) {
  world.stub.enqueue(toolUse("Bash", { command, description: "x" }), text("done"));
  const id = await newSession(server);
  const res = await call("POST", `/api/sessions/${id}/messages`, { text: "fix the VM" }, OWNER, server);
  expect(res.status).toBe(200);
  const answered: Promise<void>[] = [];
  const events = await readTurn(res, {
    onEvent: ({ event }) => {
      if (event.type === "permission") answered.push(Promise.resolve(onPermission(event, id)));
    },
  });
  await Promise.all(answered);
  return { id, events };
}

/** The tool_result the model got back for its one tool call. */
const toolResultSent = () => JSON.stringify(world.stub.turnRequests()[1]?.body.messages?.at(-1));
const decisions = (command: string) =>
  audit.filter((l) => l.msg === "permission decided" && l.command === command);
const answer = (id: string, permissionId: string, body: unknown, token = OWNER, server = bg) =>
  call("POST", `/api/sessions/${id}/permissions/${permissionId}`, body, token, server);

describe("the agent asks the operator before it changes anything", () => {
  it("ssh pve reset: a mutating prompt; deny sends the note to the model and runs nothing", async () => {
    const before = (await pve.calls()).length;
    const { events } = await turnAsking("ssh pve reset", async (p, id) => {
      expect(p).toMatchObject({ command: "ssh pve reset", risk: "mutating" });
      const res = await answer(id, p.id, { decision: "deny", note: "collect forensics first" });
      expect(res.status).toBe(200);
    });
    expect(kinds(events)).toContain("permission");
    expect(of(events, "permission_decision")).toMatchObject([{ decision: "deny", by: "owner" }]);
    expect(kinds(events).slice(-2)).toEqual(["result", "done"]);
    expect(toolResultSent()).toContain("The operator denied this command");
    expect(toolResultSent()).toContain("collect forensics first");
    expect((await pve.calls()).slice(before)).toEqual([]);
    expect(decisions("ssh pve reset")).toMatchObject([
      { decision: "deny", by: "owner", owner: "owner", note: "collect forensics first", risk: "mutating" },
    ]);
    expect(decisions("ssh pve reset")[0]?.at).toEqual(expect.any(String));
  });

  it("ssh pve reset: allow runs it on the host", async () => {
    const before = (await pve.calls()).length;
    const { events } = await turnAsking("ssh pve reset", async (p, id) => {
      expect((await answer(id, p.id, { decision: "allow" })).status).toBe(200);
    });
    expect(of(events, "permission_decision")).toMatchObject([{ decision: "allow", by: "owner" }]);
    expect((await pve.calls()).slice(before)).toEqual(EXPECTED_CALLS.reset);
    expect(of(events, "tool").find((t) => t.phase === "result")).toMatchObject({ isError: false });
  });

  it("no answer within the timeout is a deny", async () => {
    const quick = await start({ BREAKGLASS_PROMPT_TIMEOUT_SECONDS: "1" });
    try {
      const before = (await pve.calls()).length;
      const { events } = await turnAsking("ssh pve cycle", () => {}, quick);
      expect(of(events, "permission")).toMatchObject([{ command: "ssh pve cycle", risk: "mutating" }]);
      expect(of(events, "permission_decision")).toMatchObject([{ decision: "timeout", by: null }]);
      expect(toolResultSent()).toContain("No answer from the operator");
      expect((await pve.calls()).slice(before)).toEqual([]);
      expect(decisions("ssh pve cycle")).toMatchObject([{ decision: "timeout", by: null }]);
    } finally {
      await quick.stop();
    }
  });

  it("ssh devvm 'uptime' runs without a prompt (read-only list)", async () => {
    await writeFile(vmLog, "");
    const { events } = await turnAsking("ssh devvm 'uptime'", () => {
      throw new Error("asked about a read-only command");
    });
    expect(of(events, "permission")).toEqual([]);
    expect(await readFile(vmLog, "utf8")).toBe("uptime\n");
    expect(of(events, "tool").find((t) => t.phase === "result")).toMatchObject({ isError: false });
    expect(decisions("ssh devvm 'uptime'")).toMatchObject([{ decision: "allow", by: "read-only list" }]);
  });

  it("ssh devvm 'uptime; reboot' asks (remote-shell); denied, the VM ran nothing", async () => {
    await writeFile(vmLog, "");
    const { events } = await turnAsking("ssh devvm 'uptime; reboot'", async (p, id) => {
      expect(p).toMatchObject({ command: "ssh devvm 'uptime; reboot'", risk: "remote-shell" });
      expect((await answer(id, p.id, { decision: "deny" })).status).toBe(200);
    });
    expect(of(events, "permission_decision")).toMatchObject([{ decision: "deny" }]);
    expect(await readFile(vmLog, "utf8")).toBe("");
  });

  it("another principal cannot answer (404); a reconnecting client sees the pending prompt", async () => {
    world.stub.enqueue(toolUse("Bash", { command: "ssh pve stop", description: "x" }), text("done"));
    const id = await newSession();
    const res = await call("POST", `/api/sessions/${id}/messages`, { text: "stop it" });
    // The first client drops its connection as soon as the prompt arrives.
    const first = await readTurn(res, { hangUpAfter: (e) => e.event.type === "permission" });
    const prompt = of(first, "permission")[0]!;
    expect(prompt).toMatchObject({ command: "ssh pve stop", risk: "mutating" });

    // Someone else: as if neither the session nor the prompt existed.
    const stolen = await answer(id, prompt.id, { decision: "allow" }, OTHER);
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: string }).error).toBe("session_not_found");
    expect((await answer(id, crypto.randomUUID(), { decision: "allow" })).status).toBe(404);

    // Reconnecting: the session's history and the turn log both show the prompt, still open.
    const view = (await (await call("GET", `/api/sessions/${id}`)).json()) as SessionView;
    const last = view.history.at(-1);
    expect(last?.role === "assistant" && last.parts.find((p) => p.type === "permission")).toMatchObject({
      permission: { id: prompt.id, command: "ssh pve stop" },
    });
    const again = await call("GET", `/api/sessions/${id}/current?after=-1`);
    const replay = await readTurn(again, { hangUpAfter: (e) => e.event.type === "permission" });
    expect(of(replay, "permission")).toEqual([prompt]);

    const before = (await pve.calls()).length;
    expect((await answer(id, prompt.id, { decision: "deny", note: "not now" })).status).toBe(200);
    // Answered once: a second answer finds nothing open.
    expect((await answer(id, prompt.id, { decision: "allow" })).status).toBe(404);
    const rest = await readTurn(await call("GET", `/api/sessions/${id}/current?after=${replay.at(-1)!.id}`));
    expect(of(rest, "permission_decision")).toMatchObject([{ id: prompt.id, decision: "deny", by: "owner" }]);
    expect(kinds(rest).at(-1)).toBe("done");
    expect((await pve.calls()).slice(before)).toEqual([]);
    expect(decisions("ssh pve stop").map((d) => d.decision)).toEqual(["deny"]);
  });

  it("a command that is not one ssh to the two hosts is refused without a prompt", async () => {
    const { events } = await turnAsking("ssh devvm uptime; touch /tmp/x", () => {
      throw new Error("asked about a refused command");
    });
    expect(of(events, "permission")).toEqual([]);
    expect(toolResultSent()).toContain("Refused");
    await eventually(() => decisions("ssh devvm uptime; touch /tmp/x").length === 1, {
      what: "the audit line",
    });
  });
});
