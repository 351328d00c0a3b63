import { toServiceError } from "@claude-gateway/service-kit";
import { type NatsServer, startNatsServer } from "@claude-gateway/testkit/nats-server";
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ensureKv,
  ensureObjectStore,
  ensureStream,
  InvalidKvValueError,
  JetStreamSetupError,
  KvUpdateConflictError,
  kvGetJson,
  kvPutJson,
  kvUpdateJson,
} from "../src/index.js";

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe("ensureStream", () => {
  const spec = { name: "EVENTS", subjects: ["events.>"], max_msgs: 1_000 };

  it("creates once, then leaves an identical stream alone", async () => {
    const created = await ensureStream(jsm, spec);
    const again = await ensureStream(jsm, spec);
    expect(again.created).toBe(created.created);
    expect(again.config.max_msgs).toBe(1_000);
  });

  it("updates fields that differ", async () => {
    const updated = await ensureStream(jsm, { ...spec, max_msgs: 2_000, description: "all events" });
    expect(updated.config).toMatchObject({
      max_msgs: 2_000,
      description: "all events",
      subjects: ["events.>"],
    });
    expect((await jsm.streams.info("EVENTS")).config.max_msgs).toBe(2_000);
  });

  it("reports a change the server refuses, with the server's reason as cause", async () => {
    const err = await ensureStream(jsm, { ...spec, storage: StorageType.Memory }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamSetupError);
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/storage type/);
  });
});

describe("work queue with a durable pull consumer", () => {
  beforeAll(async () => {
    await ensureStream(jsm, { name: "JOBS", subjects: ["jobs.>"], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add("JOBS", {
      durable_name: "workers",
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(1_000),
    });
  });

  it("delivers a published message; the ack removes it from the stream", async () => {
    await js.publish("jobs.a", "job-1");
    const consumer = await js.consumers.get("JOBS", "workers");
    const msg = await consumer.next({ expires: 5_000 });
    expect(msg?.string()).toBe("job-1");
    expect(msg?.info.deliveryCount).toBe(1);
    expect(await msg?.ackAck()).toBe(true);
    expect((await jsm.streams.info("JOBS")).state.messages).toBe(0);
  });

  it("redelivers a message nobody acked once ack_wait has passed", async () => {
    await js.publish("jobs.b", "job-2");
    const consumer = await js.consumers.get("JOBS", "workers");
    const first = await consumer.next({ expires: 5_000 });
    expect(first?.string()).toBe("job-2");
    // Not acked: the next pull is answered by the redelivery, about a second later.
    const again = await consumer.next({ expires: 5_000 });
    expect(again?.string()).toBe("job-2");
    expect(again?.redelivered).toBe(true);
    expect(again?.info.deliveryCount).toBe(2);
    expect(again?.seq).toBe(first?.seq);
    expect(await again?.ackAck()).toBe(true);
  });
});

describe("KV JSON helpers", () => {
  const Session = z.object({ owner: z.string(), turns: z.number().int().nonnegative() });

  it("puts and gets a validated value", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    expect(await kvGetJson(kv, "s1", Session)).toBeNull();
    const revision = await kvPutJson(kv, "s1", Session, { owner: "ana", turns: 0 });
    expect(await kvGetJson(kv, "s1", Session)).toEqual({ value: { owner: "ana", turns: 0 }, revision });
  });

  it("refuses to write a value its schema rejects", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    await expect(kvPutJson(kv, "bad", Session, { owner: "ana", turns: -1 })).rejects.toBeInstanceOf(
      InvalidKvValueError,
    );
    expect(await kv.get("bad")).toBeNull();
  });

  it("reports a stored value that is not what the schema says", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    await kv.put("garbage", "not json");
    const err = await kvGetJson(kv, "garbage", Session).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidKvValueError);
    expect(err).toMatchObject({ bucket: "sessions", key: "garbage" });
  });

  it("retries an update that lost the revision race", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    await kvPutJson(kv, "s2", Session, { owner: "ana", turns: 1 });
    const seen: Array<number | undefined> = [];
    const result = await kvUpdateJson(kv, "s2", Session, async (current) => {
      seen.push(current?.turns);
      // Another writer gets in between our read and our write, once.
      if (seen.length === 1) await kvPutJson(kv, "s2", Session, { owner: "bo", turns: 10 });
      return { owner: current?.owner ?? "?", turns: (current?.turns ?? 0) + 1 };
    });
    expect(seen).toEqual([1, 10]);
    expect(result.value).toEqual({ owner: "bo", turns: 11 });
    expect(await kvGetJson(kv, "s2", Session)).toEqual(result);
  });

  it("creates a missing key, and recreates a deleted one", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    const bump = (current: { owner: string; turns: number } | undefined) => ({
      owner: "cy",
      turns: (current?.turns ?? 0) + 1,
    });
    expect((await kvUpdateJson(kv, "s3", Session, bump)).value.turns).toBe(1);
    expect((await kvUpdateJson(kv, "s3", Session, bump)).value.turns).toBe(2);
    await kv.delete("s3");
    expect((await kvUpdateJson(kv, "s3", Session, bump)).value.turns).toBe(1);
  });

  it("gives up after maxAttempts lost races", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    await kvPutJson(kv, "s4", Session, { owner: "ana", turns: 0 });
    let calls = 0;
    const err = await kvUpdateJson(
      kv,
      "s4",
      Session,
      async (current) => {
        calls++;
        await kvPutJson(kv, "s4", Session, { owner: "rival", turns: 100 + calls });
        return { owner: "ana", turns: (current?.turns ?? 0) + 1 };
      },
      { maxAttempts: 3 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvUpdateConflictError);
    expect(err).toMatchObject({ attempts: 3 });
    expect(calls).toBe(3);
    // A service answers it as a 503 with a Retry-After, never as an internal error.
    expect(toServiceError(err)).toMatchObject({ status: 503, code: "store_contended", retryAfterSeconds: 1 });
  });

  it("a burst of writers on one key all land: losers back off and try again", async () => {
    const kv = await ensureKv(js, "sessions", { history: 5 });
    const bump = (current: { owner: string; turns: number } | undefined) => ({
      owner: "burst",
      turns: (current?.turns ?? 0) + 1,
    });
    await Promise.all(Array.from({ length: 24 }, () => kvUpdateJson(kv, "s5", Session, bump)));
    expect((await kvGetJson(kv, "s5", Session))?.value.turns).toBe(24);
  });

  it("accepts a bucket TTL and updates it on an existing bucket", async () => {
    const kv = await ensureKv(js, "short-lived", { ttlMs: 60_000, history: 1 });
    expect(await kv.status()).toMatchObject({ ttl: 60_000, history: 1 });
    const again = await ensureKv(js, "short-lived", { ttlMs: 120_000, history: 3 });
    expect(await again.status()).toMatchObject({ ttl: 120_000, history: 3 });
  });
});

describe("ensureObjectStore", () => {
  it("creates a store with a TTL and round-trips a blob", async () => {
    const store = await ensureObjectStore(js, "artifacts", { ttlMs: 3_600_000 });
    expect((await store.status()).ttl).toBe(nanos(3_600_000));
    await store.putBlob({ name: "out.txt" }, new TextEncoder().encode("hello"));
    const again = await ensureObjectStore(js, "artifacts", { ttlMs: 3_600_000 });
    expect(new TextDecoder().decode((await again.getBlob("out.txt")) ?? new Uint8Array())).toBe("hello");
  });
});
