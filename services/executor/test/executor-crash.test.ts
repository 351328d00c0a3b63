import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { buckets, isTerminal, type JobRecord, subjects } from "@claude-gateway/contracts";
import { descendantPids, eventually, messagesText, text } from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsJobStore } from "../src/adapters/nats-store.js";
import { newJobRecord, requestCancel } from "../src/core/records.js";
import { createWorld, overNats, spawnExecutor, stopProcess, type World } from "./harness.js";

// Real executor processes (the built `dist/main.js`), so one can really be SIGKILLed mid-job.
let world: World;
let nc: NatsConnection;
const procs: ChildProcess[] = [];

async function startProcess(id: string): Promise<ChildProcess> {
  const { child } = await spawnExecutor(world, id, {
    ACK_WAIT_SECONDS: "2",
    MAX_CONCURRENCY: "2",
    QUEUE_SWEEP_SECONDS: "1",
  });
  procs.push(child);
  return child;
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
  // One after the other: `procs` is in this order (the tests pick a replica by its index).
  await startProcess("exec-a");
  await startProcess("exec-b");
});
afterAll(async () => {
  await Promise.all(procs.map(stopProcess));
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

  it("a job left queued without a queue message (its submitter died between the two) is published by a sweep and runs", async () => {
    world.stub.setHandler(() => text("swept and done"));
    const kv = await new Kvm(jetstream(nc)).open(buckets.jobs);
    // What a submitter that died right after writing the record leaves behind: no message.
    const stranded = newJobRecord({
      id: randomUUID(),
      submission: { agent: "recruiter-triage", prompt: "stranded", caller: "tok_tester" },
      model: "claude-haiku-4-5",
      caller: "tok_tester",
      queueToken: randomUUID(),
      now: new Date(Date.now() - 5_000),
    });
    expect((await natsJobStore(kv).create(stranded)).created).toBe(true);
    const done = await jobOnce(stranded.id, (job) => isTerminal(job.status), {
      what: "the stranded job to end",
      timeoutMs: 30_000,
    });
    expect(done).toMatchObject({ status: "succeeded", result: { text: "swept and done" }, attempts: 1 });
    expect(done.queueToken).not.toBe(stranded.queueToken);
  });

  it("a stale queue message (a resubmitted id's, a re-enqueued job's) neither runs the job again nor marks it lost", async () => {
    world.stub.reset();
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[slow]")
        ? text("ran once", { firstByteDelayMs: 1500 })
        : text("other"),
    );
    const submitted = await submitJob("[slow] only once");
    const running = await jobOnce(submitted.job.id, (job) => job.status === "running", { what: "running" });
    // An old message for the same job, as an ack that timed out or a sweep race leaves behind.
    const js = jetstream(nc);
    await js.publish(
      subjects.queue.subject,
      new TextEncoder().encode(JSON.stringify({ id: running.id, caller: running.caller, token: "stale" })),
      { msgID: `${running.id}.stale` },
    );
    const done = await jobOnce(submitted.job.id, (job) => isTerminal(job.status), { what: "the job to end" });
    expect(done).toMatchObject({ status: "succeeded", result: { text: "ran once" }, attempts: 1 });
    expect(world.stub.turnRequests().filter((r) => messagesText(r.body).includes("[slow]"))).toHaveLength(1);
    world.stub.setHandler(undefined);
  });

  it("a cancel whose broadcast never arrived (the replica was disconnected) still stops the job, at its next heartbeat", async () => {
    world.stub.reset();
    world.stub.setHandler((req) =>
      messagesText(req.body).includes("[hang]") ? { kind: "hang" } : text("other"),
    );
    const submitted = await submitJob("[hang] cancel me quietly");
    const running = await jobOnce(submitted.job.id, (job) => job.status === "running", { what: "running" });
    await world.stub.waitForTurnRequests(1);
    // The cancel as the service writes it, without the broadcast (lost on core NATS).
    const kv = await new Kvm(jetstream(nc)).open(buckets.jobs);
    await natsJobStore(kv).update(running.caller, running.id, (r) =>
      requestCancel(r, "cancelled while the replica was away", new Date()),
    );
    const done = await jobOnce(submitted.job.id, (job) => isTerminal(job.status), {
      what: "the job to be cancelled",
      timeoutMs: 30_000,
    });
    expect(done).toMatchObject({
      status: "cancelled",
      error: {
        reason: "cancelled",
        message: expect.stringContaining("cancelled while the replica was away"),
      },
    });
    world.stub.setHandler(undefined);
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
