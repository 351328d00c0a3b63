import { randomBytes, randomUUID } from "node:crypto";
import { deflateSync } from "node:zlib";
import { buckets, JobSubmission, payloadObjects, SubmitReply, subjects } from "@claude-gateway/contracts";
import { openedPayloads, type Payloads, request } from "@claude-gateway/nats";
import {
  imageBlocksOf,
  lastUserBlocks,
  messagesText,
  offeredToolNames,
  promptTooLong,
  STRUCTURED_OUTPUT_TOOL,
  structuredOutput,
  text,
} from "@claude-gateway/testkit";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../src/start.js";
import { createWorld, type Json, overNats, submit, type World, waitForJob } from "./harness.js";

// A job's images, JSON schema and forking resume, end to end: HTTP and NATS in, the real pinned
// CLI against the Messages stub, what crossed the wire to the model asserted.
let world: World;
let ex: RunningExecutor;
let nc: NatsConnection;
let payloads: Payloads;
beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: "2" });
  nc = await connect({ servers: world.nats.url });
  payloads = openedPayloads(jetstream(nc), buckets.jobPayloads);
});
afterAll(async () => {
  await nc?.close();
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});

/** A valid RGB PNG of `w`×`h` pixels; `noise` makes it incompressible (its size ≈ 3·w·h bytes). */
function png(w: number, h: number, noise = false): string {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = table[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const row = w * 3 + 1;
  const raw = noise ? randomBytes(row * h) : Buffer.alloc(row * h);
  for (let y = 0; y < h; y++) {
    raw[y * row] = 0;
    if (!noise) for (let x = 0; x < w * 3; x++) raw[y * row + 1 + x] = (x + 7 * y) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: noise ? 0 : 6 })),
    chunk("IEND", Buffer.alloc(0)),
  ]).toString("base64");
}
const GIF_1PX = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

const run = async (body: Record<string, unknown>): Promise<Json> => {
  const r = await submit(ex, { agent: "recruiter-triage", ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return waitForJob(ex, r.body.job.id as string);
};
/** Over the gateway's admit subject, as the caller tok_tester (what the HTTP token is). */
const admit = (payload: Record<string, unknown>) =>
  request(nc, {
    subject: subjects.jobs.admit("tok_tester"),
    request: JobSubmission,
    response: SubmitReply,
    payload: { agent: "recruiter-triage", ...payload } as JobSubmission,
  });

describe("images", () => {
  it("two images reach the model as image blocks with the exact base64, in order, the prompt's text last", async () => {
    world.stub.enqueue(text("a gradient and a dot"));
    const first = png(40, 20);
    const job = await run({
      prompt: "What do these show?",
      images: [
        { mediaType: "image/png", data: first },
        { mediaType: "image/gif", data: GIF_1PX },
      ],
    });
    expect(job).toMatchObject({ status: "succeeded", result: { text: "a gradient and a dot" } });
    const [req] = world.stub.turnRequests();
    expect(imageBlocksOf(req!.body)).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: first } },
      { type: "image", source: { type: "base64", media_type: "image/gif", data: GIF_1PX } },
    ]);
    // The CLI puts its own reminders (text blocks) first; then the images, then the prompt.
    const blocks = lastUserBlocks(req!.body);
    expect(blocks.map((b) => b.type).slice(-3)).toEqual(["image", "image", "text"]);
    expect(blocks.at(-1)).toMatchObject({ type: "text", text: "What do these show?" });
    // The record keeps them inline: they fit.
    expect(job.submission.images[0]).toEqual({ mediaType: "image/png", data: first });
  });

  it("an image by reference (the gateway's, under the caller's incoming prefix) is read from the payload store", async () => {
    world.stub.enqueue(text("seen"));
    const data = png(16, 16);
    const ref = await payloads.put(payloadObjects.incoming("tok_tester", randomUUID()), data);
    const { job: queued } = await admit({
      prompt: "and this one?",
      images: [
        { mediaType: "image/gif", data: GIF_1PX },
        { mediaType: "image/png", ref },
      ],
    });
    const job = await waitForJob(ex, queued.id);
    expect(job).toMatchObject({ status: "succeeded", submission: { images: [{}, { ref }] } });
    expect(imageBlocksOf(world.stub.turnRequests()[0]!.body).map((b) => b.source.data)).toEqual([
      GIF_1PX,
      data,
    ]);
  });

  it("an image reference the store does not hold fails the job payload_unavailable, no model request", async () => {
    const { job: queued } = await admit({
      prompt: "look",
      images: [{ mediaType: "image/png", ref: { object: `incoming/tok_tester/${randomUUID()}`, bytes: 88 } }],
    });
    const job = await waitForJob(ex, queued.id);
    expect(job).toMatchObject({ status: "failed", error: { reason: "payload_unavailable" } });
    expect(world.stub.turnRequests()).toEqual([]);
  });

  it("a caller's own reference, or data that is no image, is a 400 and nothing runs", async () => {
    const ref = { object: "incoming/tok_tester/x", bytes: 8 };
    const err = await overNats(nc)
      .submit({ agent: "recruiter-triage", prompt: "look", images: [{ mediaType: "image/png", ref }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: "image_ref_not_allowed" });
    const bad = await submit(ex, {
      agent: "recruiter-triage",
      prompt: "look",
      images: [{ mediaType: "image/png", data: Buffer.from("not a picture").toString("base64") }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "invalid_image", issues: [{ path: "images.0.data" }] });
    expect(world.stub.turnRequests()).toEqual([]);
  });

  it("an image too large for the record goes to the payload store and still reaches the model whole", async () => {
    world.stub.enqueue(text("noise"));
    // 451 KiB decoded, 601 KiB of base64: more than half of what the bus carries, less than the
    // ~500 KB over which the CLI re-encodes an image (as JPEG) before sending it.
    const data = png(384, 400, true);
    const job = await run({ prompt: "what is this?", images: [{ mediaType: "image/png", data }] });
    expect(job.status).toBe("succeeded");
    expect(job.submission.images).toEqual([
      { mediaType: "image/png", ref: { object: `jobs/${job.id}/images/0`, bytes: data.length } },
    ]);
    expect(imageBlocksOf(world.stub.turnRequests()[0]!.body)[0]!.source.data).toBe(data);
  });
});

const CITY = {
  type: "object",
  properties: { city: { type: "string" }, population: { type: "integer" } },
  required: ["city", "population"],
  additionalProperties: false,
};

describe("structured output", () => {
  it("a job with jsonSchema: the model is offered StructuredOutput; the result holds its object and the stop reason", async () => {
    world.stub.enqueue(structuredOutput({ city: "Sofia", population: 1_200_000 }));
    const job = await run({ prompt: "Bulgaria's capital?", jsonSchema: CITY });
    expect(job).toMatchObject({
      status: "succeeded",
      result: { structuredOutput: { city: "Sofia", population: 1_200_000 }, stopReason: "tool_use" },
    });
    expect(JSON.parse(job.result.text)).toEqual({ city: "Sofia", population: 1_200_000 });
    const [req] = world.stub.turnRequests();
    expect(offeredToolNames(req!.body)).toEqual([STRUCTURED_OUTPUT_TOOL]);
    expect(JSON.stringify(req!.body.tools)).toContain('"population"');
  });

  it("a job without one records the stop reason only", async () => {
    // (After `max_tokens` the CLI asks the model to go on: another request.)
    world.stub.enqueue(text("plain", { stopReason: "stop_sequence" }));
    const job = await run({ prompt: "hi" });
    expect(job.result).toMatchObject({ text: "plain", stopReason: "stop_sequence" });
    expect(job.result.structuredOutput).toBeUndefined();
  });

  it("a schema the CLI refuses fails the job invalid_request before any model request", async () => {
    const job = await run({ prompt: "hi", jsonSchema: { type: "nonsense" } });
    expect(job).toMatchObject({ status: "failed", error: { reason: "invalid_request" } });
    expect(job.error.message).toMatch(/^--json-schema is not a valid JSON Schema/);
    expect(world.stub.requests).toEqual([]);
  });

  it("a model that answers in prose fails the job structured_output_missing, its spend kept", async () => {
    world.stub.setDefault(text("Sofia, about 1.2 million."));
    const job = await run({ prompt: "Bulgaria's capital?", jsonSchema: CITY });
    expect(job).toMatchObject({ status: "failed", error: { reason: "structured_output_missing" } });
    expect(job.costUsd).toBeGreaterThan(0);
  });

  it("one larger than the bus carries: HTTP answers it whole, the NATS record holds the text's beginning and the reference", async () => {
    const rows = "r".repeat(1_200_000);
    world.stub.enqueue(structuredOutput({ rows }, { chunkSize: 64 * 1024 }));
    const job = await run({
      prompt: "a lot",
      jsonSchema: { type: "object", properties: { rows: { type: "string" } }, required: ["rows"] },
    });
    expect(job.status).toBe("succeeded");
    expect(job.result.structuredOutput).toEqual({ rows });
    const overBus = (await overNats(nc).get(job.id)).job;
    expect(overBus.result?.textRef).toMatchObject({ object: `jobs/${job.id}/result` });
    expect(overBus.result?.text).toHaveLength(1000);
    expect(overBus.result?.structuredOutput).toBeUndefined();
  });
});

describe("a prompt longer than the model's context", () => {
  it("fails the job prompt_too_long after one model request", async () => {
    world.stub.setDefault(promptTooLong(250_000, 200_000));
    const job = await run({ prompt: "a very long prompt" });
    expect(job).toMatchObject({ status: "failed", error: { reason: "prompt_too_long" } });
    expect(job.error.message).toMatch(/prompt is too long/i);
    expect(world.stub.turnRequests()).toHaveLength(1);
  });
});

describe("a forking resume", () => {
  it("continues into a new session of the caller's; the original resumes with its own history only", async () => {
    world.stub.enqueue(text("Noted: Ada."));
    const first = await run({ prompt: "My name is Ada.", session: { kind: "new" } });
    expect(first.status).toBe("succeeded");
    const original = first.result.sessionId as string;

    world.stub.enqueue(text("You are Ada, in the fork."));
    const fork = await run({
      prompt: "Who am I? (fork)",
      session: { kind: "resume", id: original, fork: true },
    });
    expect(fork.status).toBe("succeeded");
    const forked = fork.result.sessionId as string;
    expect(forked).toMatch(/^[0-9a-f-]{36}$/);
    expect(forked).not.toBe(original);
    const sentToFork = messagesText(world.stub.turnRequests().at(-1)!.body);
    expect(sentToFork).toContain("My name is Ada.");
    expect(sentToFork).toContain("Noted: Ada.");

    // The fork is the caller's session now, its transcript stored: it resumes with both turns.
    world.stub.enqueue(text("still the fork"));
    const onFork = await run({ prompt: "And the fork again?", session: { kind: "resume", id: forked } });
    expect(onFork).toMatchObject({ status: "succeeded", result: { sessionId: forked } });
    expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain("Who am I? (fork)");

    // The original stayed as it was.
    world.stub.enqueue(text("the original"));
    const again = await run({ prompt: "Original again?", session: { kind: "resume", id: original } });
    expect(again).toMatchObject({ status: "succeeded", result: { sessionId: original } });
    const sentToOriginal = messagesText(world.stub.turnRequests().at(-1)!.body);
    expect(sentToOriginal).toContain("My name is Ada.");
    expect(sentToOriginal).not.toContain("(fork)");
    expect(sentToOriginal).not.toContain("still the fork");
  });
});
