import type { ChildProcess } from "node:child_process";
import { isTerminal, type JobRecord } from "@claude-gateway/contracts";
import { descendantPids, eventually, messagesText, text } from "@claude-gateway/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, overNats, spawnExecutor, stopProcess, type World } from "../harness.js";

// Fault: a replica frozen (SIGSTOP) mid-job, then thawed (SIGCONT). Its heartbeats stop, so the
// other replica gets the job's message again and ends it; the thawed one must not overwrite that.
let world: World;
let nc: NatsConnection;
const procs = new Map<string, ChildProcess>();

async function startProcess(id: string): Promise<void> {
  const { child } = await spawnExecutor(world, id, { ACK_WAIT_SECONDS: "2", MAX_CONCURRENCY: "2" });
  procs.set(id, child);
}

const jobOnce = (id: string, reached: (job: JobRecord) => boolean, what: string) =>
  eventually(
    async () => {
      const { job } = await overNats(nc).get(id);
      return reached(job) ? job : undefined;
    },
    { what, timeoutMs: 30_000 },
  );

beforeAll(async () => {
  world = await createWorld();
  nc = await connect({ servers: world.nats.url });
  await Promise.all([startProcess("exec-a"), startProcess("exec-b")]);
});
afterAll(async () => {
  await Promise.all([...procs.values()].map(stopProcess));
  await nc?.close();
  await world?.close();
});

describe("a replica frozen mid-job", () => {
  it("the other replica ends the job executor_lost; thawed, the frozen one neither overwrites it nor stops working", async () => {
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[slow]")
        ? text("finished after the thaw", { firstByteDelayMs: 2_000 })
        : text("next"),
    );
    const submitted = await overNats(nc).submit({ agent: "recruiter-triage", prompt: "[slow] freeze me" });
    const running = await jobOnce(submitted.job.id, (j) => j.status === "running", "the job to run");
    await world.stub.waitForTurnRequests(1);
    const frozen = procs.get(running.executor!)!;
    const cliPids = await descendantPids(frozen.pid!);
    frozen.kill("SIGSTOP");

    const lost = await jobOnce(
      submitted.job.id,
      (j) => isTerminal(j.status),
      "the frozen replica's job to end",
    );
    expect(lost).toMatchObject({
      status: "failed",
      error: { reason: "executor_lost" },
      executor: running.executor,
    });

    frozen.kill("SIGCONT");
    // The thawed replica's CLI finishes its reply and exits; its end cannot replace the recorded one.
    await eventually(
      async () => (await descendantPids(frozen.pid!)).filter((p) => cliPids.includes(p)).length === 0,
      {
        what: "the thawed replica's CLI to finish",
        timeoutMs: 30_000,
      },
    );
    const { job } = await overNats(nc).get(submitted.job.id);
    expect(job).toMatchObject({ status: "failed", error: { reason: "executor_lost" } });

    // Both replicas still take work (two jobs at once: one lands on each, or both on one).
    const next = await Promise.all(
      [1, 2].map((i) => overNats(nc).submit({ agent: "recruiter-triage", prompt: `next ${i}` })),
    );
    for (const n of next) {
      const done = await jobOnce(n.job.id, (j) => isTerminal(j.status), "a job after the thaw");
      expect(done).toMatchObject({ status: "succeeded", result: { text: "next" } });
    }
  });
});
