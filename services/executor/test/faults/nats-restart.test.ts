import { isTerminal, type JobRecord } from "@claude-gateway/contracts";
import { eventually, type NatsServer, startNatsServer, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH,
  createWorld,
  type ExecutorProcess,
  spawnExecutor,
  stopProcess,
  type World,
} from "../harness.js";

// Fault: the nats-server killed (SIGKILL) and restarted on the same port and store while jobs are
// submitted and run. "Lost" is a submit answered 2xx whose job never reaches a final state.
const SUBMITS = 40;
let world: World;
let executor: ExecutorProcess;
let url: string;
let restarted: NatsServer | undefined;

beforeAll(async () => {
  world = await createWorld();
  executor = await spawnExecutor(world, "exec-fault", {
    ACK_WAIT_SECONDS: "2",
    QUEUE_SWEEP_SECONDS: "1",
    MAX_CONCURRENCY: "2",
  });
  url = executor.url;
});
afterAll(async () => {
  if (executor) await stopProcess(executor.child);
  await restarted?.stop();
  await world?.close();
});

type Outcome = { status: number; id?: string; error?: string };
async function submitOne(i: number): Promise<Outcome> {
  try {
    const res = await fetch(`${url}/execute`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ agent: "recruiter-triage", prompt: `job ${i}` }),
    });
    const body = (await res.json()) as { job?: JobRecord; error?: string; detail?: string };
    return {
      status: res.status,
      ...(body.job ? { id: body.job.id } : { error: `${body.error}: ${body.detail}` }),
    };
  } catch {
    return { status: 0 };
  }
}
async function recordOf(id: string): Promise<JobRecord | undefined> {
  const res = await fetch(`${url}/jobs/${id}`, { headers: AUTH }).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  return ((await res.json()) as { job: JobRecord }).job;
}

describe("nats-server killed and restarted on the same store mid-run", () => {
  it("every job accepted before, during or after the outage reaches a final state; none is lost", {
    timeout: 150_000,
  }, async () => {
    world.stub.setHandler(() => text("done", { firstByteDelayMs: 150 }));
    const submits: Promise<Outcome>[] = [];
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Before and during the outage: jobs queued and running, records and messages in flight.
    for (let i = 0; i < SUBMITS / 2; i++) {
      submits.push(submitOne(i));
      if (i === SUBMITS / 4) world.nats.kill();
      await pause(50);
    }
    restarted = await startNatsServer({
      port: world.nats.port,
      storeDir: world.nats.storeDir,
      passwords: world.nats.passwords,
    });
    // After it: on until a quarter of the submits are accepted again (however long reconnecting
    // takes on a loaded machine; never accepting again would be a failure of its own).
    let acceptedAfter = 0;
    for (let i = SUBMITS / 2; acceptedAfter < SUBMITS / 4; i++) {
      if (i > 600) throw new Error("no submit was accepted after the restart");
      const outcome = await submitOne(i);
      submits.push(Promise.resolve(outcome));
      if (outcome.id) acceptedAfter++;
      await pause(50);
    }
    const outcomes = await Promise.all(submits);
    const accepted = outcomes.filter((o) => o.status === 202 || o.status === 200);
    const refused = outcomes.filter((o) => !(o.status === 202 || o.status === 200));
    // Refusals during the outage are a 503 with a reason (or no answer at all), never a 2xx later lost.
    for (const o of refused)
      expect([0, 503], `${o.error}\n${executor.errors.join("\n")}`).toContain(o.status);

    const finals = new Map<string, JobRecord>();
    const open = async () =>
      Promise.all(
        accepted.filter((o) => !finals.has(o.id!)).map(async (o) => JSON.stringify(await recordOf(o.id!))),
      );
    await eventually(
      async () => {
        for (const o of accepted) {
          if (finals.has(o.id!)) continue;
          const job = await recordOf(o.id!);
          if (job && isTerminal(job.status)) finals.set(job.id, job);
        }
        return finals.size === accepted.length;
      },
      { what: "every accepted job to reach a final state", timeoutMs: 60_000, intervalMs: 250 },
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}\nstill open:\n${(await open()).join("\n")}\n${executor.errors.join("\n")}`,
      );
    });
    const byState = new Map<string, number>();
    for (const job of finals.values()) {
      const key = job.error ? `${job.status} (${job.error.reason})` : job.status;
      byState.set(key, (byState.get(key) ?? 0) + 1);
    }
    console.log(
      `nats restart: ${outcomes.length} submits, ${accepted.length} accepted, ${refused.length} refused (503 or no answer); ` +
        `final states: ${[...byState].map(([k, n]) => `${k} ${n}`).join(", ")}; lost 0`,
    );
    // Nothing ran twice: at most one model request per accepted job (a job lost mid-run may have sent one).
    expect(world.stub.turnRequests().length).toBeLessThanOrEqual(accepted.length);
  });
});
