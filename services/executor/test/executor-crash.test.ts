import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { JobRecord } from "@claude-gateway/contracts";
import { descendantPids, eventually, messagesText, text } from "@claude-gateway/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, overNats, type World } from "./harness.js";

// Real executor processes (the built `dist/main.js`), so one can really be SIGKILLed mid-job.
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let world: World;
let nc: NatsConnection;
const procs: ChildProcess[] = [];

function startProcess(id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...world.cli.env,
      IS_SANDBOX: "1",
      ...world.baseEnv(),
      EXECUTOR_ID: id,
      LOG_LEVEL: "info",
      ACK_WAIT_SECONDS: "2",
      MAX_CONCURRENCY: "2",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  procs.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (line.includes('"executor started"')) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`executor ${id} exited with ${code}`)));
  });
}

const getJob = (id: string) => overNats(nc).get(id);
const submitJob = (prompt: string) => overNats(nc).submit({ agent: "recruiter-triage", prompt });

/** The job's record once `reached` holds for it. */
const jobOnce = (
  id: string,
  reached: (job: JobRecord) => boolean,
  wait: { what: string; timeoutMs?: number },
) =>
  eventually(async () => {
    const { job } = await getJob(id);
    return reached(job) ? job : undefined;
  }, wait);

beforeAll(async () => {
  world = await createWorld();
  nc = await connect({ servers: world.nats.url });
  await Promise.all([startProcess("exec-a"), startProcess("exec-b")]);
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  await Promise.all(
    procs.map((p) =>
      p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once("exit", r)) : null,
    ),
  );
  await nc?.close();
  await world?.close();
});

describe("two executor processes share one queue", () => {
  it("a replica killed mid-job: the job ends executor_lost (not running forever), the other replica keeps working", async () => {
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[hang]") ? { kind: "hang" } : text("fine"),
    );
    const submitted = await submitJob("[hang] crash me");
    const running = await jobOnce(submitted.job.id, (job) => job.status === "running", {
      what: "the job to run",
    });
    await world.stub.waitForTurnRequests(1);
    const victimIndex = running.executor === "exec-a" ? 0 : 1;
    const victim = procs[victimIndex]!;
    // The pod's other processes die with it in Kubernetes; here the orphaned CLI is ours to end.
    const orphans = await descendantPids(victim.pid!);
    expect(orphans.length).toBeGreaterThan(0);
    victim.kill("SIGKILL");
    await new Promise((r) => victim.once("exit", r));
    for (const pid of orphans) process.kill(pid, "SIGKILL");

    const lost = await jobOnce(submitted.job.id, (job) => job.status !== "running", {
      what: "the lost job to end",
      timeoutMs: 30_000,
    });
    expect(lost).toMatchObject({
      status: "failed",
      error: { reason: "executor_lost" },
      executor: running.executor,
      attempts: 1,
    });
    expect(lost.error?.message).toContain(running.executor);

    // The survivor still takes work.
    const next = await submitJob("after the crash");
    const done = await jobOnce(next.job.id, (job) => job.status === "succeeded", {
      what: "the next job",
      timeoutMs: 30_000,
    });
    expect(done.executor).toBe(victimIndex === 0 ? "exec-b" : "exec-a");
  });

  it("SIGTERM stops a replica gracefully: it finishes its running job first", async () => {
    const survivor = procs.find((p) => p.exitCode === null && p.signalCode === null)!;
    world.stub.setHandler(() => text("finished during shutdown", { firstByteDelayMs: 1500 }));
    const submitted = await submitJob("slow");
    await jobOnce(submitted.job.id, (job) => job.status === "running", { what: "running" });
    survivor.kill("SIGTERM");
    const code = await new Promise((r) => survivor.once("exit", (c) => r(c)));
    expect(code).toBe(0);
    const { job } = await getJob(submitted.job.id).catch(async () => {
      // No executor answers any more: read the record straight from KV through a fresh replica.
      await startProcess("exec-c");
      return getJob(submitted.job.id);
    });
    expect(job).toMatchObject({ status: "succeeded", result: { text: "finished during shutdown" } });
  });
});
