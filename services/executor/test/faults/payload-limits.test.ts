import { buckets, JobSubmission, SubmitReply, subjects } from "@claude-gateway/contracts";
import { ensureObjectStore, request } from "@claude-gateway/nats";
import { lastUserText, messagesText, text } from "@claude-gateway/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../../src/start.js";
import { AUTH, createWorld, overNats, submit, type World, waitForJob } from "../harness.js";

// Payloads at and over what the bus carries (the nats-server's max_payload, 1 MiB by default): a
// prompt or reply too large for a record lives in the payload store, the record names it; nothing
// the HTTP layer accepts breaks a record write or leaves a job unfinished.
let world: World;
let ex: RunningExecutor;
let nc: NatsConnection;
beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: "2" });
  // The tests' own connection (the observer): it may remove a stream, which no service may.
  nc = await connect({ servers: world.nats.url });
});
afterAll(async () => {
  await nc?.close();
  await world?.close();
});

/** The object store's stream removed under the running executor: every read and write of it fails. */
async function removeObjectStore(bucket: string): Promise<void> {
  await (await jetstreamManager(nc)).streams.delete(`OBJ_${bucket}`);
}

let storedPromptObject = "";

describe("payloads and the bus's limit", () => {
  it("a prompt too large for a record runs whole: the record keeps its beginning and names the stored prompt", async () => {
    world.stub.setHandler(() => text("read it all"));
    // Under the HTTP body limit (2 MiB) and the prompt limit (1M characters): 1.2 MB in UTF-8, more
    // than one NATS message carries. (900 000 of them the CLI itself refuses: "Prompt is too long".)
    const prompt = `${"ж".repeat(600_000)}КРАЙ`;
    const r = await submit(ex, { agent: "recruiter-triage", prompt });
    expect(r.status).toBe(202);
    const id = r.body.job.id as string;
    const job = await waitForJob(ex, id);
    expect(job.error).toBeUndefined();
    expect(job).toMatchObject({
      status: "succeeded",
      result: { text: "read it all" },
      promptRef: { object: `jobs/${id}/prompt`, bytes: Buffer.byteLength(prompt) },
    });
    expect(job.submission.prompt).toBe("ж".repeat(1000));
    // What crossed the wire to the model is the whole prompt.
    expect(lastUserText(world.stub.turnRequests().at(-1)!.body)).toContain(prompt);
    storedPromptObject = job.promptRef.object as string;
  });

  it("a prompt that fits stays in the record", async () => {
    world.stub.setHandler(() => text("read it all"));
    const prompt = `${"y".repeat(300_000)} END`;
    const r = await submit(ex, { agent: "recruiter-triage", prompt });
    const job = await waitForJob(ex, r.body.job.id as string);
    expect(job).toMatchObject({ status: "succeeded", submission: { prompt } });
    expect(job.promptRef).toBeUndefined();
  });

  it("a reply larger than the bus carries: succeeded; HTTP answers it whole, the NATS record holds its beginning and the reference", async () => {
    const reply = `${"z".repeat(1_200_000)}END`;
    world.stub.setHandler(() => text(reply));
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "write a lot" });
    const id = r.body.job.id as string;
    const job = await waitForJob(ex, id);
    expect(job.status).toBe("succeeded");
    expect(job.result.text).toBe(reply);
    expect(job.costUsd).toBeGreaterThan(0);
    const overBus = (await overNats(nc).get(id)).job;
    expect(overBus.result?.text).toBe("z".repeat(1000));
    expect(overBus.result?.textRef).toEqual({ object: `jobs/${id}/result`, bytes: reply.length });
  });

  it("a caller cannot point a job at a stored object (another job's prompt): 400, nothing runs", async () => {
    expect(storedPromptObject).not.toBe("");
    const before = world.stub.turnRequests().length;
    for (const object of [storedPromptObject, "incoming/tok_tester/x"]) {
      const err = await overNats(nc)
        .submit({ agent: "recruiter-triage", prompt: "begin", promptRef: { object, bytes: 10 } })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, code: "prompt_ref_not_allowed" });
    }
    // Over the gateway's own subject too, as this caller (the bus refuses anyone but the gateway).
    const viaAdmit = await request(nc, {
      subject: subjects.jobs.admit("tok_tester"),
      request: JobSubmission,
      response: SubmitReply,
      payload: {
        agent: "recruiter-triage",
        prompt: "begin",
        promptRef: { object: storedPromptObject, bytes: 10 },
      },
    }).catch((e: unknown) => e);
    expect(viaAdmit).toMatchObject({ status: 400, code: "prompt_ref_not_allowed" });
    expect(world.stub.turnRequests().length).toBe(before);
  });

  it("the payload store unavailable: a large prompt is a 503 before queueing, a large reply fails result_too_large with its spend, small jobs run", async () => {
    await removeObjectStore(buckets.jobPayloads);
    try {
      const refused = await submit(ex, { agent: "recruiter-triage", prompt: "x".repeat(600_000) });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: "payload_store_unavailable" });

      world.stub.setHandler(() => text("z".repeat(1_200_000)));
      const big = await submit(ex, { agent: "recruiter-triage", prompt: "write a lot" });
      const failed = await waitForJob(ex, big.body.job.id as string);
      expect(failed).toMatchObject({ status: "failed", error: { reason: "result_too_large" } });
      expect(failed.costUsd).toBeGreaterThan(0);

      world.stub.setHandler(() => text("small"));
      const small = await submit(ex, { agent: "recruiter-triage", prompt: "hi" });
      expect(await waitForJob(ex, small.body.job.id as string)).toMatchObject({ status: "succeeded" });
    } finally {
      await ensureObjectStore(jetstream(nc), buckets.jobPayloads);
    }
  });

  it("the transcript store unavailable: a session is kept on the replica, and resumes there with its history", async () => {
    await removeObjectStore(buckets.transcripts);
    try {
      world.stub.setHandler(() => text("Noted: your name is Ada."));
      const first = await waitForJob(
        ex,
        (await submit(ex, { agent: "recruiter-triage", prompt: "My name is Ada.", session: { kind: "new" } }))
          .body.job.id as string,
      );
      expect(first.status).toBe("succeeded");
      world.stub.setHandler(() => text("You are Ada."));
      const second = await waitForJob(
        ex,
        (
          await submit(ex, {
            agent: "recruiter-triage",
            prompt: "Who am I?",
            session: { kind: "resume", id: first.result.sessionId },
          })
        ).body.job.id as string,
      );
      expect(second).toMatchObject({ status: "succeeded", result: { text: "You are Ada." } });
      const sent = messagesText(world.stub.turnRequests().at(-1)!.body);
      expect(sent).toContain("My name is Ada.");
      expect(sent).toContain("Noted: your name is Ada.");
    } finally {
      await ensureObjectStore(jetstream(nc), buckets.transcripts);
    }
  });

  it("every job accepted here reached a final state", async () => {
    const res = await fetch(`${ex.url}/jobs?limit=100`, { headers: AUTH });
    const { jobs } = (await res.json()) as { jobs: Array<{ id: string; status: string }> };
    expect(jobs.length).toBeGreaterThanOrEqual(7);
    expect(jobs.filter((j) => !["succeeded", "failed", "timed_out", "cancelled"].includes(j.status))).toEqual(
      [],
    );
  });
});
