import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { JobEvent, jobIdFor, subjects } from "@claude-gateway/contracts";
import { RemoteServiceError } from "@claude-gateway/nats";
import { eventually, messagesText, processesWithEnv, text } from "@claude-gateway/testkit";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../src/start.js";
import { AUTH, createWorld, getJob, type Json, overNats, submit, type World, waitForJob } from "./harness.js";

let world: World;
let ex: RunningExecutor;

beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: "2", MAX_QUEUE_DEPTH: "4" });
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});

/** The stub answers each job by a marker in its prompt: `[slow:MS]` delays, `[hang]` never answers. */
function scriptByPrompt() {
  world.stub.setHandler((req) => {
    const sent = messagesText(req.body);
    if (sent.includes("[hang]")) return { kind: "hang" };
    const slow = /\[slow:(\d+)\]/.exec(sent);
    const tag = /\[tag:(\w+)\]/.exec(sent)?.[1] ?? "x";
    return text(`reply for ${tag}`, slow ? { firstByteDelayMs: Number(slow[1]) } : {});
  });
}

// Each job has its own HOME (and user): the stub's address is what every CLI of this world shares.
const cliProcesses = () =>
  processesWithEnv({ ANTHROPIC_BASE_URL: world.stub.url, CLAUDE_CODE_MAX_RETRIES: "0" });

describe("executor: queue, concurrency, FIFO", () => {
  it("runs at most MAX_CONCURRENCY jobs at once, starts them in submission order, and /health tells the truth", async () => {
    scriptByPrompt();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await submit(ex, { agent: "recruiter-triage", prompt: `[slow:1200] [tag:j${i}] msg ${i}` });
      expect(r.status).toBe(202);
      ids.push(r.body.jobId);
    }
    let maxActive = 0;
    let sawQueued = false;
    const poll = setInterval(async () => {
      const h = (await (await fetch(`${ex.url}/health`)).json()) as {
        active: number;
        queued: number;
        capacity: number;
        busy: boolean;
      };
      maxActive = Math.max(maxActive, h.active);
      if (h.queued > 0 && h.busy) sawQueued = true;
    }, 40);
    const jobs = [];
    for (const id of ids) jobs.push(await waitForJob(ex, id));
    clearInterval(poll);

    expect(jobs.map((j) => j.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(jobs.map((j) => j.result.text)).toEqual([
      "reply for j0",
      "reply for j1",
      "reply for j2",
      "reply for j3",
    ]);
    expect(maxActive).toBe(2);
    expect(sawQueued).toBe(true);
    // Never more than two running at any instant, judged from the records themselves.
    const edges = jobs.flatMap((j) => [
      { t: Date.parse(j.startedAt), d: 1 },
      { t: Date.parse(j.finishedAt), d: -1 },
    ]);
    edges.sort((a, b) => a.t - b.t || a.d - b.d);
    let running = 0;
    let peak = 0;
    for (const e of edges) {
      running += e.d;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(2);
    // FIFO: started in submission order; the third waited for a free slot.
    const starts = jobs.map((j) => Date.parse(j.startedAt));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const [j0, j1, j2] = jobs as [Json, Json, Json];
    expect(starts[2]).toBeGreaterThanOrEqual(Math.min(Date.parse(j0.finishedAt), Date.parse(j1.finishedAt)));
    expect(j2.queueWaitMs).toBeGreaterThan(800);
    // Every job recorded its spend.
    for (const j of jobs) {
      expect(j.costUsd).toBeGreaterThan(0);
      expect(j.usage.inputTokens).toBeGreaterThan(0);
      expect(j.caller).toBe("tok_tester");
    }
  });

  it("the timeout covers execution only, not the wait in the queue", async () => {
    scriptByPrompt();
    // Two slots busy for over 10 s; the third job waits that long, then runs (a CLI start and
    // 0.5 s) under a 10 s limit: far more than its run even on a loaded machine, less than its wait.
    const blockers = await Promise.all(
      [0, 1].map((i) => submit(ex, { agent: "recruiter-triage", prompt: `[slow:10000] [tag:b${i}]` })),
    );
    const late = await submit(ex, {
      agent: "recruiter-triage",
      prompt: "[slow:500] [tag:late]",
      timeoutSeconds: 10,
    });
    const job = await waitForJob(ex, late.body.jobId);
    expect(job.status).toBe("succeeded");
    expect(job.queueWaitMs + job.runMs).toBeGreaterThan(10_000);
    expect(job.runMs).toBeLessThan(10_000);
    for (const b of blockers) await waitForJob(ex, b.body.jobId);
  });

  it("a full queue answers 429 with Retry-After; every accepted job still ends", async () => {
    scriptByPrompt();
    const accepted: string[] = [];
    for (let i = 0; i < 2; i++)
      accepted.push(
        (await submit(ex, { agent: "recruiter-triage", prompt: `[hang] [tag:r${i}]` })).body.jobId,
      );
    await world.stub.waitForTurnRequests(2);
    // Both slots are busy; MAX_QUEUE_DEPTH=4 more may wait.
    for (let i = 0; i < 4; i++) {
      const r = await submit(ex, { agent: "recruiter-triage", prompt: `[hang] [tag:q${i}]` });
      expect(r.status).toBe(202);
      accepted.push(r.body.jobId);
    }
    const refused = await submit(ex, { agent: "recruiter-triage", prompt: "[hang] [tag:over]" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(refused.body).toMatchObject({ error: "queue_full", retry_after_seconds: 30 });
    // Over NATS the same refusal comes back as a typed error, rebuilt from the envelope.
    const nc = await connect({ servers: world.nats.url });
    try {
      const refusedOverNats = await overNats(nc, "tok_portal")
        .submit({ agent: "recruiter-triage", prompt: "[hang] [tag:over-nats]" })
        .catch((e: unknown) => e);
      expect(refusedOverNats).toBeInstanceOf(RemoteServiceError);
      expect(refusedOverNats).toMatchObject({ status: 429, code: "queue_full", retryAfterSeconds: 30 });
    } finally {
      await nc.close();
    }
    const health = (await (await fetch(`${ex.url}/health`)).json()) as Json;
    expect(health).toEqual({ busy: true, active: 2, queued: 4, capacity: 2 });
    for (const id of accepted) {
      const res = await fetch(`${ex.url}/jobs/${id}`, { method: "DELETE", headers: AUTH });
      expect(res.status).toBe(202);
    }
    const final = await Promise.all(accepted.map((id) => waitForJob(ex, id)));
    expect(final.map((j) => j.status)).toEqual(accepted.map(() => "cancelled"));
    await eventually(async () => (await cliProcesses()).length === 0, { what: "no CLI process left" });
    // Cancelled-while-queued messages drain from the queue.
    await eventually(async () => ((await (await fetch(`${ex.url}/health`)).json()) as Json).queued === 0, {
      what: "queue drained",
    });
  });

  it("the same job id twice is one job", async () => {
    scriptByPrompt();
    const a = await submit(ex, { id: "idem-1", agent: "recruiter-triage", prompt: "[tag:idem]" });
    const b = await submit(ex, { id: "idem-1", agent: "recruiter-triage", prompt: "[tag:other]" });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.duplicate).toBe(true);
    const job = await waitForJob(ex, "idem-1");
    expect(job.result.text).toBe("reply for idem");
    expect(world.stub.turnRequests()).toHaveLength(1);
  });
});

describe("executor: cancel and timeout leave nothing behind", () => {
  it("DELETE of a running job kills its process group", async () => {
    scriptByPrompt();
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "[hang] [tag:c]" });
    await world.stub.waitForTurnRequests(1);
    expect((await getJob(ex, r.body.jobId)).status).toBe("running");
    expect((await cliProcesses()).length).toBeGreaterThan(0);
    const del = await fetch(`${ex.url}/jobs/${r.body.jobId}`, { method: "DELETE", headers: AUTH });
    expect(del.status).toBe(202);
    const job = await waitForJob(ex, r.body.jobId);
    expect(job).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
    expect(await cliProcesses()).toEqual([]);
  });

  it("a job past its timeout is timed_out, and its process is gone", async () => {
    scriptByPrompt();
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "[hang] [tag:t]", timeoutSeconds: 2 });
    const job = await waitForJob(ex, r.body.jobId);
    expect(job).toMatchObject({ status: "timed_out", error: { reason: "timeout" } });
    expect(await cliProcesses()).toEqual([]);
  });

  it("a CLI failure is recorded with its typed reason", async () => {
    world.stub.setDefault({
      kind: "error",
      status: 529,
      errorType: "overloaded_error",
      message: "Overloaded",
    });
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "x" });
    const job = await waitForJob(ex, r.body.jobId);
    expect(job).toMatchObject({ status: "failed", error: { reason: "upstream_error" } });
    expect(job.error.message).toContain("529");
  });
});

describe("executor: agents, sessions, events, NATS", () => {
  it("runs the job's agent: its prompt is the system prompt and it is offered no tools", async () => {
    scriptByPrompt();
    const r = await submit(ex, {
      agent: "recruiter-triage",
      prompt: "[tag:tri] Hi, we have a role.",
      model: "claude-haiku-4-5",
    });
    await waitForJob(ex, r.body.jobId);
    const [req] = world.stub.turnRequests();
    expect(req?.body.model).toBe("claude-haiku-4-5");
    expect(req?.body.tools ?? []).toEqual([]);
    expect(JSON.stringify(req?.body.system)).toMatch(/recruit/i);
  });

  it("resume: a second job continues the first job's session", async () => {
    world.stub.enqueue(text("Noted: your name is Ada."), text("Your name is Ada."));
    const first = await waitForJob(
      ex,
      (await submit(ex, { agent: "recruiter-triage", prompt: "My name is Ada.", session: { kind: "new" } }))
        .body.jobId,
    );
    expect(first.status).toBe("succeeded");
    const second = await waitForJob(
      ex,
      (
        await submit(ex, {
          agent: "recruiter-triage",
          prompt: "What is my name?",
          session: { kind: "resume", id: first.result.sessionId },
        })
      ).body.jobId,
    );
    expect(second.status).toBe("succeeded");
    expect(second.result.sessionId).toBe(first.result.sessionId);
    const sent = messagesText(world.stub.turnRequests()[1]!.body);
    expect(sent).toContain("My name is Ada.");
    expect(sent).toContain("Noted: your name is Ada.");
  });

  it("publishes live events: running, text deltas, result, succeeded", async () => {
    world.stub.enqueue(text("Streaming works in small pieces.", { chunkSize: 4, delayMs: 5 }));
    const nc = await connect({ servers: world.nats.url });
    const id = "events-1";
    const events: JobEvent[] = [];
    // A caller's own id names its job: the job id is known before submitting, so nothing is missed.
    const sub = nc.subscribe(subjects.jobs.events("tok_tester", jobIdFor("tok_tester", id)));
    const done = (async () => {
      for await (const m of sub) {
        const ev = JobEvent.parse(m.json());
        events.push(ev);
        if (ev.type === "status" && ev.status === "succeeded") break;
      }
    })();
    await submit(ex, { id, agent: "recruiter-triage", prompt: "go" });
    await done;
    await nc.close();
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("status");
    expect(types.filter((t) => t === "text").length).toBeGreaterThan(3);
    expect(
      events
        .filter((e) => e.type === "text")
        .map((e) => (e as { delta: string }).delta)
        .join(""),
    ).toBe("Streaming works in small pieces.");
    expect(types.at(-2)).toBe("result");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  });

  it("NATS request-reply: submit, get, cancel; an invalid payload gets an error reply", async () => {
    scriptByPrompt();
    const nc = await connect({ servers: world.nats.url });
    const jobs = overNats(nc);
    try {
      // A service submits on behalf of the caller it authenticated (here the HTTP test caller).
      const submitted = await jobs.submit({
        agent: "recruiter-triage",
        prompt: "[tag:nats]",
        caller: "tok_tester",
      });
      expect(submitted.job).toMatchObject({ status: "queued", caller: "tok_tester" });
      const job = await waitForJob(ex, submitted.job.id);
      expect(job.result.text).toBe("reply for nats");
      const got = await jobs.get(job.id);
      expect(got.job.status).toBe("succeeded");
      // On behalf of another caller the job does not exist.
      const someoneElse = await jobs.get(job.id, "tok_portal").catch((e: unknown) => e);
      expect(someoneElse).toMatchObject({ status: 404, code: "job_not_found" });
      // The subject names the caller; a payload naming someone else is refused.
      const mismatch = await nc.request(
        subjects.jobs.submit("tok_tester"),
        new TextEncoder().encode('{"agent":"recruiter-triage","prompt":"x","caller":"tok_portal"}'),
      );
      expect(mismatch.headers?.get("Nats-Service-Error-Code")).toBe("403");

      const bad = await nc.request(
        subjects.jobs.submit("tok_tester"),
        new TextEncoder().encode('{"agent":"recruiter-triage"}'),
      );
      expect(bad.headers?.get("Nats-Service-Error-Code")).toBe("400");
      const unknown = await jobs.get("nope").catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(RemoteServiceError);
      expect(unknown).toMatchObject({ status: 404, code: "job_not_found" });
    } finally {
      await nc.close();
    }
  });
});

describe("executor: workspaces", () => {
  it("a job without a repository runs in an empty directory that is removed afterwards", async () => {
    scriptByPrompt();
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "[tag:ws]" });
    await waitForJob(ex, r.body.jobId);
    const jobsDir = join(world.workspaceRoot, "jobs");
    expect(existsSync(join(jobsDir, r.body.jobId))).toBe(false);
    expect(existsSync(jobsDir) ? await readdir(jobsDir) : []).toEqual([]);
  });
});
