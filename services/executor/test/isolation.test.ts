import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTempRepo, TEST_TOKEN, type TempRepo } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningExecutor, startExecutor } from "../src/start.js";
import {
  AUTH,
  createWorld,
  getJob,
  scriptBash,
  submit,
  toolResultOf,
  type World,
  waitForJob,
} from "./harness.js";

// Hostile agents, for real: the stub makes the real CLI run these commands through its Bash tool,
// inside an executor that runs as root (as in CI) and so runs each job as its slot's runner user.
const isRoot = process.getuid?.() === 0;

let world: World;
let ex: RunningExecutor;
/** World-writable, so a hook or an escaped process WOULD be able to leave a mark here. */
let drop: string;
let secrets: { tokens: string; natsPassword: string; natsPasswordValue: string };
/** Some caller's repository: its base clone lands under WORKSPACE_ROOT/bases. */
let repo: TempRepo;

beforeAll(async () => {
  world = await createWorld();
  repo = await createTempRepo({ "README.md": "# someone else's code\n" });
  drop = await mkdtemp(join(tmpdir(), "cg-drop-"));
  await chmod(drop, 0o777);
  const base = world.baseEnv();
  secrets = {
    tokens: join(world.dir, "auth-tokens"),
    natsPassword: join(world.dir, "nats-password"),
    natsPasswordValue: base.NATS_PASSWORD!,
  };
  await writeFile(secrets.tokens, `tester=${TEST_TOKEN}\n`, { mode: 0o600 });
  await writeFile(secrets.natsPassword, `${secrets.natsPasswordValue}\n`, { mode: 0o600 });
  ex = await world.start({
    MAX_CONCURRENCY: "2",
    AUTH_TOKENS: "",
    AUTH_TOKENS_FILE: secrets.tokens,
    NATS_PASSWORD: "",
    NATS_PASSWORD_FILE: secrets.natsPassword,
    REPO_ALLOWLIST: repo.dir,
  });
});

afterAll(async () => {
  await ex?.stop();
  await world?.close();
  await rm(drop, { recursive: true, force: true });
  await repo?.cleanup();
});

/** Each job runs the command of its `[tag:X]`, then finishes with `done X`. */
const commands: Record<string, string> = {};

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\)\s+[ZX]\s/.test(stat);
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)("an agent cannot reach the service's secrets or another job", () => {
  it("cat of the tokens file, the NATS password, the caller policy and a running job's checkout is denied; env holds none of them", async () => {
    world.stub.reset();
    const policy = world.baseEnv().CALLER_POLICY_FILE!;
    // Job A writes a file into its checkout, then holds its slot until the test lets it go.
    commands.A = `echo a-private > private.txt && while [ ! -e ${drop}/release-A ]; do /bin/sleep 0.1; done; echo released`;
    scriptBash(world, commands);
    const a = await submit(ex, { agent: "general", prompt: "[tag:A] hold", repo: repo.dir });
    expect(a.status).toBe(202);
    const checkoutA = join(world.workspaceRoot, "jobs", a.body.jobId);
    await until("job A's private file", () => existsSync(join(checkoutA, "private.txt")));

    commands.B = [
      "id -un",
      `cat ${secrets.tokens}`,
      `cat ${secrets.natsPassword}`,
      `cat ${policy}`,
      `ls ${checkoutA}`,
      `cat ${checkoutA}/private.txt`,
      `ls ${join(world.workspaceRoot, "jobs")}`,
      `ls ${join(world.workspaceRoot, "bases")}`,
      "env",
    ]
      .map((c) => `${c} 2>&1; echo "rc=$?"`)
      .join("; ");
    const b = await submit(ex, { agent: "general", prompt: "[tag:B] snoop" });
    const jobB = await waitForJob(ex, b.body.jobId);
    await writeFile(join(drop, "release-A"), "");
    const jobA = await waitForJob(ex, a.body.jobId);
    expect([jobA.status, jobB.status]).toEqual(["succeeded", "succeeded"]);

    const seen = toolResultOf(world, "B");
    // It ran as a runner user, not as the service (root). Which slot's user it got depends on the
    // claims other executors on this machine (parallel test files) hold, so any slot counts.
    expect(seen).toMatch(/"content":"claude-runner-\d+\\nrc=0/);
    for (const path of [secrets.tokens, secrets.natsPassword, policy, `${checkoutA}/private.txt`]) {
      expect(seen).toContain(`${path}: Permission denied`);
    }
    // Nor can it list a running job's checkout, or which jobs run.
    expect(seen).toContain(`cannot open directory '${checkoutA}': Permission denied`);
    expect(seen).toContain(`cannot open directory '${join(world.workspaceRoot, "jobs")}': Permission denied`);
    expect(seen).toContain(
      `cannot open directory '${join(world.workspaceRoot, "bases")}': Permission denied`,
    );
    expect(seen).not.toContain(TEST_TOKEN);
    expect(seen).not.toContain(secrets.natsPasswordValue);
    expect(seen).not.toContain("a-private");
    // The environment carries the job's own HOME, never the service's variables.
    expect(seen).toContain(`HOME=${join(world.workspaceRoot, "homes", b.body.jobId)}`);
    expect(seen).not.toMatch(/AUTH_TOKENS|NATS_PASSWORD|NATS_USER|CALLER_POLICY_FILE|METRICS_TOKEN/);
  });

  it("a hook job 1 plants in its home does not run in job 2, which starts from a fresh home", async () => {
    world.stub.reset();
    const mark = join(drop, "planted-hook-ran");
    const hook = JSON.stringify({
      hooks: {
        SessionStart: [{ hooks: [{ type: "command", command: `touch ${mark}` }] }],
        UserPromptSubmit: [{ hooks: [{ type: "command", command: `touch ${mark}` }] }],
      },
    });
    commands.P1 = `mkdir -p "$HOME/.claude" && printf '%s' '${hook}' > "$HOME/.claude/settings.json" && echo "planted in $HOME"`;
    commands.P2 = `echo "home is $HOME"; ls -A "$HOME/.claude"; cat "$HOME/.claude/settings.json" 2>&1`;
    scriptBash(world, commands);
    const one = await submit(ex, { agent: "general", prompt: "[tag:P1] plant" });
    expect((await waitForJob(ex, one.body.jobId)).status).toBe("succeeded");
    expect(toolResultOf(world, "P1")).toContain("planted in");
    const two = await submit(ex, { agent: "general", prompt: "[tag:P2] look" });
    expect((await waitForJob(ex, two.body.jobId)).status).toBe("succeeded");
    const seen = toolResultOf(world, "P2");
    expect(seen).toContain(`home is ${join(world.workspaceRoot, "homes", two.body.jobId)}`);
    expect(seen).toContain("No such file or directory");
    expect(existsSync(mark)).toBe(false);
    // Both homes are gone with their jobs.
    expect(existsSync(join(world.workspaceRoot, "homes", one.body.jobId))).toBe(false);
  });
});

describe.skipIf(!isRoot)("nothing an agent starts outlives its job", () => {
  // `env -i` sheds every variable (the old marker), `setsid` the session and process group, and a
  // double fork the parent: only the uid stays.
  const escapeCommand = (tag: string) =>
    [
      `env -i setsid nohup sh -c 'echo $$ > ${drop}/${tag}-1; exec /bin/sleep 6001' > /dev/null 2>&1 &`,
      `(sh -c 'sh -c "echo \\$\\$ > ${drop}/${tag}-2; exec /bin/sleep 6002" > /dev/null 2>&1 &' &)`,
      `while [ ! -s ${drop}/${tag}-1 ] || [ ! -s ${drop}/${tag}-2 ]; do /bin/sleep 0.05; done`,
      "echo escaped",
    ].join("\n");

  async function escapees(tag: string): Promise<number[]> {
    await until(
      `${tag}'s escapees to start`,
      () => existsSync(`${drop}/${tag}-1`) && existsSync(`${drop}/${tag}-2`),
    );
    const pids: number[] = [];
    for (const n of [1, 2]) {
      await until(
        `${tag}-${n} pid`,
        async () => (await readFile(`${drop}/${tag}-${n}`, "utf8")).trim() !== "",
      );
      pids.push(Number((await readFile(`${drop}/${tag}-${n}`, "utf8")).trim()));
    }
    return pids;
  }

  it("when the job succeeds", async () => {
    world.stub.reset();
    commands.S = escapeCommand("S");
    scriptBash(world, commands);
    const r = await submit(ex, { agent: "general", prompt: "[tag:S] escape" });
    const job = await waitForJob(ex, r.body.jobId);
    expect(job.status).toBe("succeeded");
    expect(toolResultOf(world, "S")).toMatch(/"content":"escaped/);
    const pids = await escapees("S");
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it("when the job is cancelled", async () => {
    world.stub.reset();
    commands.C = escapeCommand("C");
    scriptBash(world, commands, ["C"]);
    const r = await submit(ex, { agent: "general", prompt: "[tag:C] escape" });
    const pids = await escapees("C");
    expect(pids.filter(isRunning)).toHaveLength(2);
    const del = await fetch(`${ex.url}/jobs/${r.body.jobId}`, { method: "DELETE", headers: AUTH });
    expect(del.status).toBe(202);
    expect((await waitForJob(ex, r.body.jobId)).status).toBe("cancelled");
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it("when the job times out", async () => {
    world.stub.reset();
    commands.T = escapeCommand("T");
    scriptBash(world, commands, ["T"]);
    const r = await submit(ex, { agent: "general", prompt: "[tag:T] escape", timeoutSeconds: 5 });
    const pids = await escapees("T");
    expect(pids.filter(isRunning)).toHaveLength(2);
    expect((await waitForJob(ex, r.body.jobId)).status).toBe("timed_out");
    expect(pids.filter(isRunning)).toEqual([]);
    expect((await getJob(ex, r.body.jobId)).error.reason).toBe("timeout");
  });
});

describe.skipIf(!isRoot)("the one file the service reads back from an agent's home", () => {
  it("a session transcript the agent replaced with a link to a secret is not stored, so no later turn can carry the secret", async () => {
    world.stub.reset();
    // The CLI keeps the session at $CLAUDE_CONFIG_DIR/projects/<cwd, non-alphanumerics as '-'>/<id>.jsonl.
    commands.L = `ln -sf ${secrets.tokens} "$CLAUDE_CONFIG_DIR/projects/$(pwd | sed 's/[^a-zA-Z0-9]/-/g')/$CLAUDE_CODE_SESSION_ID.jsonl" && echo linked`;
    scriptBash(world, commands);
    const first = await submit(ex, { agent: "general", prompt: "[tag:L] link", session: { kind: "new" } });
    const job = await waitForJob(ex, first.body.jobId);
    expect(toolResultOf(world, "L")).toMatch(/"content":"linked/);
    // The CLI's own later writes through the link were refused (the secret is root's); the run ends well.
    expect(job.status).toBe("succeeded");
    const next = await submit(ex, {
      agent: "general",
      prompt: "[tag:L2] what did you see?",
      session: { kind: "resume", id: job.result.sessionId },
    });
    const resumed = await waitForJob(ex, next.body.jobId);
    // Nothing was stored to resume from.
    expect(resumed).toMatchObject({ status: "failed", error: { reason: "session_not_found" } });
    for (const req of world.stub.requests) expect(JSON.stringify(req.body)).not.toContain(TEST_TOKEN);
  });
});

describe.skipIf(!isRoot)("an isolated executor refuses to start beside readable secrets", () => {
  it("names the secret file other users could read", async () => {
    const loose = join(world.dir, "loose-tokens");
    await writeFile(loose, `tester=${TEST_TOKEN}\n`, { mode: 0o644 });
    await chmod(loose, 0o644);
    const env = { ...world.baseEnv(), AUTH_TOKENS: "", AUTH_TOKENS_FILE: loose };
    await expect(startExecutor(loadConfig(env), { claudeEnv: world.cli.env })).rejects.toThrow(
      /AUTH_TOKENS_FILE .*loose-tokens/,
    );
  });
});
