import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { resolveClaudeBin } from "@claude-gateway/claude";
import {
  createTempRepo,
  imageBlocksOf,
  messagesText,
  TEST_AUTH,
  TEST_METRICS_AUTH,
  TEST_TOKEN,
  type TempRepo,
  text,
} from "@claude-gateway/testkit";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../src/runner/config.js";
import type { RunnerServer } from "../src/runner/server.js";
import { startRunner } from "../src/runner/start.js";
import { lookupUser } from "../src/sandbox/users.js";
import { createWorld, scriptBash, toolResultOf, type World } from "./harness.js";

// The Kubernetes shape, for real: the executor as its own non-root process (the built dist/main.js
// as a service user), holding the secrets; the runner as root beside it, holding none, reached over
// a Unix socket only the executor's user may open; agents as the runner's slot users.
const isRoot = process.getuid?.() === 0;
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const SERVICE_USER = "cg-test-executor";

let world: World;
let runner: RunnerServer;
let executor: ChildProcess | undefined;
let url: string;
let service: { uid: number; gid: number };
let drop: string;
let repo: TempRepo;
let paths: { socket: string; ws: string; tokens: string; policy: string; home: string };

async function serviceUser(): Promise<{ uid: number; gid: number }> {
  if (!(await lookupUser(SERVICE_USER))) {
    await execa("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      SERVICE_USER,
    ]);
  }
  const u = (await lookupUser(SERVICE_USER))!;
  return { uid: u.uid, gid: u.gid };
}

async function startExecutorProcess(
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const base = world.baseEnv();
  const child = spawn(process.execPath, [MAIN], {
    uid: service.uid,
    gid: service.gid,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...base,
      ...world.cli.env,
      HOME: paths.home,
      AUTH_TOKENS: "",
      AUTH_TOKENS_FILE: paths.tokens,
      CALLER_POLICY_FILE: paths.policy,
      WORKSPACE_ROOT: paths.ws,
      RUNNER_SOCKET: paths.socket,
      REPO_ALLOWLIST: repo.dir,
      MAX_CONCURRENCY: "2",
      LOG_LEVEL: "info",
      IS_SANDBOX: "1",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "executor started" && entry.port) resolve(entry.port);
      } catch {
        // not a log line
      }
    });
    child.once("exit", (code) => reject(new Error(`the executor exited ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

beforeAll(async () => {
  if (!isRoot) return;
  world = await createWorld();
  service = await serviceUser();
  drop = await mkdtemp(join(tmpdir(), "cg-drop-"));
  await chmod(drop, 0o777);
  repo = await createTempRepo({ "README.md": "# a caller's repository\n" });
  // The executor (not root) clones it: git trusts only its own user's repositories.
  await execa("chown", ["-R", `${service.uid}:${service.gid}`, repo.dir]);
  paths = {
    socket: join(world.dir, "run", "runner.sock"),
    ws: join(world.dir, "ws"),
    tokens: join(world.dir, "tokens"),
    policy: world.baseEnv().CALLER_POLICY_FILE!,
    home: join(world.dir, "executor-home"),
  };
  // The executor's own secrets and home: its user's alone.
  await writeFile(paths.tokens, `tester=${TEST_TOKEN}\n`, { mode: 0o600 });
  await mkdir(paths.home, { mode: 0o700 });
  for (const p of [paths.tokens, paths.policy, paths.home]) await chown(p, service.uid, service.gid);

  runner = await startRunner(
    loadRunnerConfig({
      RUNNER_SOCKET: paths.socket,
      RUNNER_CLIENT_UID: String(service.uid),
      RUNNER_CLIENT_GID: String(service.gid),
      WORKSPACE_ROOT: paths.ws,
      // The executor's MAX_CONCURRENCY, and one prewarmed process (the last test).
      RUNNER_SLOTS: "3",
      LOG_LEVEL: "warn",
      ...(process.env.CLAUDE_BIN ? { CLAUDE_BIN: process.env.CLAUDE_BIN } : {}),
    }),
    { env: { HOME: join(world.dir, "runner-home") } },
  );
  ({ child: executor, url } = await startExecutorProcess());
});

afterAll(async () => {
  if (!isRoot) return;
  if (executor && executor.exitCode === null) {
    const exited = new Promise((r) => executor!.once("exit", r));
    executor.kill("SIGTERM");
    await exited;
  }
  await runner?.close();
  await world?.close();
  await repo?.cleanup();
  await rm(drop, { recursive: true, force: true });
});

const commands: Record<string, string> = {};

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/execute`, {
    method: "POST",
    headers: TEST_AUTH,
    body: JSON.stringify(body),
  });
  const reply = (await res.json()) as { jobId: string };
  expect(res.status, JSON.stringify(reply)).toBe(202);
  return reply.jobId;
}

async function finished(
  id: string,
): Promise<{ status: string; result?: { text: string; sessionId: string } }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${url}/jobs/${id}`, { headers: TEST_AUTH });
    const { job } = (await res.json()) as {
      job: { status: string; result?: { text: string; sessionId: string } };
    };
    if (!["queued", "running"].includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const isRunning = (pid: number) => {
  try {
    return !/\)\s+[ZX]\s/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe.skipIf(!isRoot)("a non-root executor with a root runner beside it", () => {
  it("the executor is not root; its job runs as a runner user that cannot read its secrets, its home or the bases", async () => {
    const status = readFileSync(`/proc/${executor!.pid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(service.uid));

    world.stub.reset();
    commands.S = [
      "id -un",
      `cat ${paths.tokens}`,
      `cat ${paths.policy}`,
      `ls ${paths.home}`,
      `ls ${join(paths.ws, "bases")}`,
      "env",
    ]
      .map((c) => `${c} 2>&1; echo "rc=$?"`)
      .join("; ");
    scriptBash(world, commands);
    const job = await finished(await submit({ agent: "general", prompt: "[tag:S] snoop", repo: repo.dir }));
    expect(job.status, JSON.stringify(job)).toBe("succeeded");
    const seen = toolResultOf(world, "S");
    // A runner user (which slot depends on the other executors and runners claiming names on this machine).
    expect(seen).toMatch(/claude-runner-\d+\\nrc=0/);
    expect(seen).toContain(`${paths.tokens}: Permission denied`);
    expect(seen).toContain(`${paths.policy}: Permission denied`);
    expect(seen).toContain(`cannot open directory '${paths.home}': Permission denied`);
    expect(seen).toContain(`cannot open directory '${join(paths.ws, "bases")}': Permission denied`);
    expect(seen).not.toContain(TEST_TOKEN);
    expect(seen).not.toMatch(/AUTH_TOKENS|NATS_PASSWORD|RUNNER_SOCKET|CALLER_POLICY_FILE/);
  });

  it("a session recorded in one job resumes in the next: the transcript goes out of and back into the job's home through the runner", async () => {
    world.stub.reset();
    scriptBash(world, commands);
    const first = await finished(
      await submit({
        agent: "recruiter-triage",
        prompt: "[tag:R1] remember the word walnut",
        session: { kind: "new" },
      }),
    );
    expect(first.status).toBe("succeeded");
    const second = await finished(
      await submit({
        agent: "recruiter-triage",
        prompt: "[tag:R2] which word?",
        session: { kind: "resume", id: first.result!.sessionId },
      }),
    );
    expect(second.status).toBe("succeeded");
    const resumed = world.stub.turnRequests().find((r) => messagesText(r.body).includes("[tag:R2]"));
    expect(messagesText(resumed!.body)).toContain("remember the word walnut");
  });

  it("a job's images cross the socket with its prompt: one stream-json line on the CLI's stdin", async () => {
    world.stub.reset();
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[tag:IMG]") ? text("seen through the runner") : undefined,
    );
    const gif = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
    const job = await finished(
      await submit({
        agent: "recruiter-triage",
        prompt: "[tag:IMG] what is it?",
        images: [{ mediaType: "image/gif", data: gif }],
      }),
    );
    expect(job).toMatchObject({ status: "succeeded", result: { text: "seen through the runner" } });
    const req = world.stub.turnRequests().find((r) => messagesText(r.body).includes("[tag:IMG]"));
    expect(imageBlocksOf(req!.body).map((b) => b.source.data)).toEqual([gif]);
  });

  it("only the executor's user can talk to the runner", async () => {
    const runnerUser = (await lookupUser("claude-runner-0"))!;
    const attempt = await execa(
      process.execPath,
      [
        "-e",
        `require("net").connect(${JSON.stringify(paths.socket)}).on("error", (e) => { console.log(e.code); process.exit(0); }).on("connect", () => { console.log("connected"); process.exit(0); })`,
      ],
      { uid: runnerUser.uid, gid: runnerUser.gid, reject: false },
    );
    expect(attempt.stdout.trim()).toBe("EACCES");
    // And the executor's requests are checked: it cannot have the runner start anything but the CLI.
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(paths.socket);
      let out = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        out += d;
      });
      socket.on("close", () => resolve(out));
      socket.write(`${JSON.stringify({ op: "adopt", jobId: "nope", dir: "/etc" })}\n`);
    });
    expect(JSON.parse(reply)).toEqual({ ok: false, error: "no sandbox for job nope" });
    expect(resolveClaudeBin()).toBeDefined();
  });

  it("when the executor dies mid-job, the runner kills everything the job started and frees its sandbox", async () => {
    world.stub.reset();
    commands.K = [
      `env -i setsid nohup sh -c 'echo $$ > ${drop}/K-1; exec /bin/sleep 6001' > /dev/null 2>&1 &`,
      `while [ ! -s ${drop}/K-1 ]; do /bin/sleep 0.05; done`,
      "echo started",
    ].join("\n");
    scriptBash(world, commands, ["K"]);
    const id = await submit({ agent: "general", prompt: "[tag:K] escape" });
    await until(
      "the escapee's pid",
      async () => existsSync(`${drop}/K-1`) && (await readFile(`${drop}/K-1`, "utf8")).trim() !== "",
    );
    const pid = Number((await readFile(`${drop}/K-1`, "utf8")).trim());
    expect(isRunning(pid)).toBe(true);
    const home = join(paths.ws, "homes", id);
    expect(existsSync(home)).toBe(true);

    executor!.kill("SIGKILL");
    await until("the escapee to be killed", () => !isRunning(pid));
    await until("the job's home to be removed", () => !existsSync(home));
    // A new executor finds both slots free.
    ({ child: executor, url } = await startExecutorProcess());
    world.stub.reset();
    scriptBash(world, commands);
    const ids = await Promise.all([
      submit({ agent: "recruiter-triage", prompt: "[tag:N1] hi" }),
      submit({ agent: "recruiter-triage", prompt: "[tag:N2] hi" }),
    ]);
    for (const j of ids) expect((await finished(j)).status).toBe("succeeded");
  });

  it("a prewarmed CLI runs in the runner too: a stateless job is served by it, its prompt sent over the socket", async () => {
    const exited = new Promise((r) => executor!.once("exit", r));
    executor!.kill("SIGTERM");
    await exited;
    ({ child: executor, url } = await startExecutorProcess({
      PREWARM_POOL_SIZE: "1",
      PREWARM_MAX_KEYS: "1",
    }));
    const prewarm = async (event: string) => {
      const res = await fetch(`${url}/metrics`, { headers: TEST_METRICS_AUTH });
      const m = new RegExp(`executor_prewarm_events_total\\{event="${event}"\\} (\\d+)`).exec(
        await res.text(),
      );
      return Number(m?.[1] ?? 0);
    };
    await until("a prewarmed process", async () => (await prewarm("started")) >= 1);
    world.stub.reset();
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[tag:P]") ? text("warm through the runner") : undefined,
    );
    const job = await finished(await submit({ agent: "assistant", prompt: "[tag:P] hi" }));
    expect(job).toMatchObject({ status: "succeeded", result: { text: "warm through the runner" } });
    expect(await prewarm("hit")).toBe(1);
  });
});
