import {
  buckets,
  JobEvent,
  JobRef,
  JobReply,
  JobSubmission,
  principalId,
  SubmitReply,
  subjects,
} from "@claude-gateway/contracts";
import { ensureKv, NatsConnectError, RemoteServiceError, request } from "@claude-gateway/nats";
import { text } from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startExecutor } from "../src/start.js";
import { createWorld, type World } from "./harness.js";

// The bus exactly as deployed (generated users and permissions, no anonymous connections) with an
// executor on its own user and an internal caller `billing` on its: every attack a caller on the
// bus could try, run for real, and refused by the server — not by our code.
const BILLING = principalId("nats", "billing");
const ALICE = "tok_alice";

let world: World;
let billing: NatsConnection;
let observer: NatsConnection;
const encoder = new TextEncoder();

beforeAll(async () => {
  world = await createWorld({ bus: { callers: ["billing"], anonymous: false } });
  await world.start();
  world.stub.setDefault(text("billed"));
  billing = await connect(world.nats.optionsOf(BILLING));
  observer = await connect(world.nats.optionsOf("observer"));
  // The conversations' bucket exists, as conversational creates it.
  await ensureKv(jetstream(observer), buckets.conversations, { history: 1 });
});
afterAll(async () => {
  await billing?.close();
  await observer?.close();
  await world?.close();
});

/** The server's permission errors on a connection, as its status stream reports them. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && /permissions violation/i.test(String(s.error))) seen.push(String(s.error));
    }
  })();
  return seen;
}

/** Connects as `user`, does `act`, and returns the permission errors the server sent back. */
async function refused(
  user: string,
  act: (nc: NatsConnection) => Promise<unknown> | unknown,
): Promise<string[]> {
  const nc = await connect(world.nats.optionsOf(user));
  const seen = violations(nc);
  try {
    await Promise.resolve(act(nc)).catch((err: unknown) => {
      // A request the server refused fails with the violation; any other failure is no proof.
      if (/permissions violation/i.test(String(err))) seen.push(String(err));
    });
    await nc.flush();
    // The error comes back asynchronously, after the flush's PONG at the latest.
    await nc.flush();
    return seen;
  } finally {
    await nc.close();
  }
}

/** The server's answer to a refused publish or subscribe names the subject. */
const deniedOn = (subject: string) => expect.arrayContaining([expect.stringContaining(`"${subject}"`)]);
const publishTo = (subject: string) => (nc: NatsConnection) => nc.publish(subject, encoder.encode("{}"));
const subscribeTo = (subject: string) => (nc: NatsConnection) => {
  nc.subscribe(subject);
};
const jsApi = (subject: string) => (nc: NatsConnection) =>
  nc.request(subject, encoder.encode(""), { timeout: 2000 });

describe("who may connect", () => {
  it("refuses a connection without credentials", async () => {
    const err = await connect({ servers: world.nats.url }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/authorization/i);
  });
  it("a wrong password fails start-up with a message that names the user, not the password", async () => {
    const env = { ...world.baseEnv(), NATS_PASSWORD: "wrong-password-123" };
    const err = await startExecutor(loadConfig(env)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsConnectError);
    expect((err as Error).message).toMatch(/refused user svc_executor/);
    expect((err as Error).message).toMatch(/NATS_PASSWORD/);
    expect((err as Error).message).not.toContain("wrong-password-123");
  });
});

describe("an internal caller on the bus", () => {
  it("submits as itself, reads its job and its own job's events; the job is its own", async () => {
    const id = "billing-1";
    const { jobIdFor } = await import("@claude-gateway/contracts");
    const events: JobEvent[] = [];
    const sub = billing.subscribe(subjects.jobs.events(BILLING, jobIdFor(BILLING, id)));
    const done = (async () => {
      for await (const m of sub) {
        const ev = JobEvent.parse(m.json());
        events.push(ev);
        if (ev.type === "status" && ev.status === "succeeded") break;
      }
    })();
    const submitted = await request(billing, {
      subject: subjects.jobs.submit(BILLING),
      request: JobSubmission,
      response: SubmitReply,
      payload: { id, agent: "recruiter-triage", prompt: "invoice me" },
    });
    expect(submitted.job.caller).toBe(BILLING);
    await done;
    expect(events.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
    const got = await request(billing, {
      subject: subjects.jobs.get(BILLING),
      request: JobRef,
      response: JobReply,
      payload: { id: submitted.job.id },
    });
    expect(got.job).toMatchObject({ status: "succeeded", result: { text: "billed" } });
  });

  it("cannot submit, read or cancel as anyone else: the server refuses the subject", async () => {
    for (const subject of [
      subjects.jobs.submit(ALICE),
      subjects.jobs.get(ALICE),
      subjects.jobs.cancel(ALICE),
      subjects.jobs.admit(BILLING),
      subjects.conversational.turn(ALICE),
    ]) {
      expect(await refused(BILLING, publishTo(subject)), subject).toEqual(deniedOn(subject));
    }
  });

  it("a payload naming someone else on its own subject is refused by the executor (403)", async () => {
    const err = await request(billing, {
      subject: subjects.jobs.submit(BILLING),
      request: JobSubmission,
      response: SubmitReply,
      payload: { agent: "recruiter-triage", prompt: "bill alice", caller: ALICE },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toMatchObject({ status: 403, code: "caller_mismatch" });
  });

  it("cannot publish job events or control messages, nor read anyone else's events or replies", async () => {
    expect(await refused(BILLING, publishTo(subjects.jobs.events(ALICE, "j1")))).toEqual(
      deniedOn(subjects.jobs.events(ALICE, "j1")),
    );
    expect(await refused(BILLING, publishTo(subjects.jobs.events(BILLING, "j1")))).toEqual(
      deniedOn(subjects.jobs.events(BILLING, "j1")),
    );
    expect(await refused(BILLING, publishTo(subjects.jobs.cancelBroadcast))).toEqual(
      deniedOn(subjects.jobs.cancelBroadcast),
    );
    expect(await refused(BILLING, publishTo(subjects.queue.subject))).toEqual(
      deniedOn(subjects.queue.subject),
    );
    for (const subject of [
      subjects.jobs.principalEvents(ALICE),
      subjects.jobs.allEvents,
      ">",
      "_INBOX.>",
      "_INBOX_svc_openai-gateway.>",
      subjects.jobs.serve.submit,
    ]) {
      expect(await refused(BILLING, subscribeTo(subject)), subject).toEqual(deniedOn(subject));
    }
  });

  it("cannot read KV buckets or the object store, nor delete a stream", async () => {
    for (const subject of [
      `$JS.API.STREAM.INFO.KV_${buckets.jobs}`,
      `$JS.API.DIRECT.GET.KV_${buckets.jobs}.$KV.${buckets.jobs}.x`,
      `$JS.API.STREAM.INFO.OBJ_${buckets.transcripts}`,
      // Other jobs' prompts and replies too large for a record.
      `$JS.API.STREAM.INFO.OBJ_${buckets.jobPayloads}`,
      `$JS.API.DIRECT.GET.OBJ_${buckets.jobPayloads}.$O.${buckets.jobPayloads}.M.x`,
      `$JS.API.STREAM.DELETE.${subjects.queue.stream}`,
      "$JS.API.STREAM.LIST",
    ]) {
      expect(await refused(BILLING, jsApi(subject)), subject).toEqual(deniedOn(subject));
    }
    expect(await refused(BILLING, subscribeTo(`$KV.${buckets.jobs}.>`))).toEqual([
      expect.stringMatching(/Permissions Violation for Subscription to "\$KV\.agent_jobs\.>"/),
    ]);
    // The queue is still there.
    const jsm = await jetstream(observer).jetstreamManager();
    expect((await jsm.streams.info(subjects.queue.stream)).config.name).toBe(subjects.queue.stream);
  });
});

describe("our services stay in their lanes", () => {
  it("the executor's user cannot read conversations; the conversational user cannot read jobs", async () => {
    const convs = `$JS.API.STREAM.INFO.KV_${buckets.conversations}`;
    expect(await refused("executor", jsApi(convs))).toEqual(deniedOn(convs));
    expect(await refused("executor", subscribeTo(subjects.conversational.serveTurn))).toEqual(
      deniedOn(subjects.conversational.serveTurn),
    );
    expect(await refused("conversational", jsApi(`$JS.API.STREAM.INFO.KV_${buckets.jobs}`))).toEqual(
      deniedOn(`$JS.API.STREAM.INFO.KV_${buckets.jobs}`),
    );
    expect(await refused("conversational", jsApi(`$JS.API.STREAM.INFO.${subjects.queue.stream}`))).toEqual(
      deniedOn(`$JS.API.STREAM.INFO.${subjects.queue.stream}`),
    );
  });
  it("the gateway may read job events but not publish them, nor submit unadmitted, nor delete streams", async () => {
    expect(await refused("openai-gateway", publishTo(subjects.jobs.events(ALICE, "j1")))).toEqual(
      deniedOn(subjects.jobs.events(ALICE, "j1")),
    );
    expect(await refused("openai-gateway", publishTo(subjects.jobs.submit(ALICE)))).toEqual(
      deniedOn(subjects.jobs.submit(ALICE)),
    );
    expect(await refused("openai-gateway", jsApi(`$JS.API.STREAM.DELETE.KV_${buckets.policySpend}`))).toEqual(
      deniedOn(`$JS.API.STREAM.DELETE.KV_${buckets.policySpend}`),
    );
    expect(await refused("openai-gateway", subscribeTo(subjects.jobs.allEvents))).toEqual([]);
  });
  it("no service may delete a stream, not even its own", async () => {
    expect(await refused("executor", jsApi(`$JS.API.STREAM.DELETE.${subjects.queue.stream}`))).toEqual(
      deniedOn(`$JS.API.STREAM.DELETE.${subjects.queue.stream}`),
    );
    expect(
      await refused("conversational", jsApi(`$JS.API.STREAM.DELETE.KV_${buckets.conversations}`)),
    ).toEqual(deniedOn(`$JS.API.STREAM.DELETE.KV_${buckets.conversations}`));
  });
});
