import type { JobRecord } from "@claude-gateway/contracts";
import { silentLogger } from "@claude-gateway/service-kit";
import { describe, expect, it } from "vitest";
import { markEnqueued, newJobRecord, startJob } from "./core/records.js";
import { createQueueSweeper } from "./queue-sweep.js";
import { memoryQueue, memoryStore } from "./test-support/memory.js";

const t0 = new Date("2026-12-04T10:00:00.000Z");
const job = (id: string, token = `tok-${id}`): JobRecord =>
  newJobRecord({
    id,
    submission: { agent: "general", prompt: "p" },
    model: "m",
    caller: "tok_a",
    queueToken: token,
    now: t0,
  });

function setup(nowMs: number) {
  const store = memoryStore();
  const queue = memoryQueue();
  let now = nowMs;
  const sweeper = createQueueSweeper({
    store,
    queue,
    clock: { now: () => new Date(now) },
    logger: silentLogger,
    graceMs: 30_000,
  });
  return { store, queue, sweeper, setNow: (ms: number) => (now = ms) };
}

describe("the queue sweep", () => {
  it("publishes a stranded job (queued, never confirmed, past the grace) under a new token, once", async () => {
    const { store, queue, sweeper } = setup(t0.getTime() + 31_000);
    await store.create(job("stranded"));
    await store.create(markEnqueued(job("confirmed"), "tok-confirmed", t0));
    await store.create(startJob(job("running"), { executor: "e", now: t0 }));
    expect(await sweeper.sweep()).toBe(1);
    expect(queue.messages).toHaveLength(1);
    const [message] = queue.messages;
    expect(message).toMatchObject({ id: "stranded", caller: "tok_a" });
    expect(message!.token).not.toBe("tok-stranded");
    const record = await store.get("tok_a", "stranded");
    expect(record).toMatchObject({ status: "queued", queueToken: message!.token });
    expect(record!.enqueuedAt).toBeDefined();
    // Confirmed now: the next sweep leaves it alone.
    expect(await sweeper.sweep()).toBe(0);
    expect(queue.messages).toHaveLength(1);
  });

  it("leaves a job inside the grace alone (its submit may still be publishing)", async () => {
    const { store, queue, sweeper } = setup(t0.getTime() + 29_000);
    await store.create(job("fresh"));
    expect(await sweeper.sweep()).toBe(0);
    expect(queue.messages).toHaveLength(0);
  });

  it("a publish that fails leaves the job for the next sweep, which publishes it", async () => {
    const { store, queue, sweeper } = setup(t0.getTime() + 31_000);
    await store.create(job("j"));
    queue.failNext = true;
    expect(await sweeper.sweep()).toBe(0);
    expect((await store.get("tok_a", "j"))!.enqueuedAt).toBeUndefined();
    expect(await sweeper.sweep()).toBe(1);
    expect(queue.messages).toHaveLength(1);
  });
});
