import { type NatsServer, startNatsServer } from "@claude-gateway/testkit/nats-server";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ObjectStore } from "@nats-io/obj";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureObjectStore, natsTranscriptBlobs } from "../src/index.js";

let server: NatsServer;
let nc: NatsConnection;
let store: ObjectStore;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  store = await ensureObjectStore(jetstream(nc), "transcripts_test");
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}
async function text(data: AsyncIterable<Uint8Array>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of data) out.push(Buffer.from(c));
  return Buffer.concat(out).toString();
}

describe("natsTranscriptBlobs", () => {
  it("streams a transcript in and out under `<sessionId>.jsonl`", async () => {
    const blobs = natsTranscriptBlobs(store);
    // Larger than one object-store chunk (128 KiB), so both directions stream several.
    const big = `${"x".repeat(300 * 1024)}\n`;
    await blobs.put("s1", chunks('{"turn":1}\n', big));
    const data = await blobs.get("s1");
    expect(data).not.toBeNull();
    expect(await text(data!)).toBe(`{"turn":1}\n${big}`);
    // The name the services stored transcripts under before: existing objects stay readable.
    expect(Buffer.from((await store.getBlob("s1.jsonl"))!).toString()).toBe(`{"turn":1}\n${big}`);
  });

  it("reads what was stored with putBlob (the services' earlier adapters)", async () => {
    await store.putBlob({ name: "s0.jsonl" }, Buffer.from("old\n"));
    expect(await text((await natsTranscriptBlobs(store).get("s0"))!)).toBe("old\n");
  });

  it("an unknown session: null", async () => {
    expect(await natsTranscriptBlobs(store).get("nobody")).toBeNull();
  });

  it("an empty transcript round-trips", async () => {
    const blobs = natsTranscriptBlobs(store);
    await blobs.put("empty", chunks());
    expect(await text((await blobs.get("empty"))!)).toBe("");
  });

  it("a put whose source fails keeps the previous transcript", async () => {
    const blobs = natsTranscriptBlobs(store);
    await blobs.put("s2", chunks("turn 1\n"));
    async function* broken() {
      yield Buffer.from("turn 1\nturn 2 (half");
      throw new Error("read failed");
    }
    await expect(blobs.put("s2", broken())).rejects.toThrow();
    expect(await text((await blobs.get("s2"))!)).toBe("turn 1\n");
  });
});
