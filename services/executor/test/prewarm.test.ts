import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  eventually,
  imageBlocksOf,
  lastUserText,
  messagesText,
  structuredOutput,
  TEST_METRICS_AUTH,
  text,
} from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../src/start.js";
import { cliProcesses, createWorld, submit, type World, waitForJob } from "./harness.js";

// Prewarmed CLI processes for stateless jobs of no-tools agents: the real pinned CLI on the stub,
// a real nats-server, the executor in-process (as root in CI: each process as a runner user).
let world: World;
let ex: RunningExecutor;

beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ PREWARM_POOL_SIZE: "1", PREWARM_MAX_KEYS: "2", MAX_CONCURRENCY: "2" });
});
afterAll(async () => {
  await world?.close();
});

const events = async (event: string) => {
  const res = await fetch(`${ex.url}/metrics`, { headers: TEST_METRICS_AUTH });
  const m = new RegExp(`executor_prewarm_events_total\\{event="${event}"\\} (\\d+)`).exec(await res.text());
  return Number(m?.[1] ?? 0);
};
describe("prewarmed CLI processes", () => {
  it("serve stateless no-tools jobs, one job each, nothing of one job reaching the next", async () => {
    await eventually(async () => (await cliProcesses(world)).length === 1, { what: "one prewarmed process" });
    const [pooled] = await cliProcesses(world);
    // Started before any job, isolated like any job's: its own home, a runner user.
    if (process.getuid?.() === 0) expect(pooled!.uid).not.toBe(0);

    world.stub.enqueue(text("Noted."), text("I do not know any secret."));
    const a = await submit(ex, { agent: "assistant", prompt: "[tag:A] the secret is hazelnut-42" });
    expect(a.status).toBe(202);
    const jobA = await waitForJob(ex, a.body.jobId);
    expect(jobA).toMatchObject({ status: "succeeded", result: { text: "Noted." } });
    expect(jobA.costUsd).toBeGreaterThan(0);
    expect(await events("hit")).toBe(1);
    // Its process served A only: gone, and a fresh one takes its place.
    await eventually(async () => (await cliProcesses(world)).every((c) => c.pid !== pooled!.pid), {
      what: "A's process gone",
    });
    await eventually(async () => (await cliProcesses(world)).length === 1, { what: "the pool refilled" });

    const b = await submit(ex, { agent: "assistant", prompt: "[tag:B] what is the secret?" });
    const jobB = await waitForJob(ex, b.body.jobId);
    expect(jobB).toMatchObject({ status: "succeeded", result: { text: "I do not know any secret." } });
    expect(await events("hit")).toBe(2);
    await eventually(
      async () =>
        /executor_prewarm_processes 1/.test(
          await (await fetch(`${ex.url}/metrics`, { headers: TEST_METRICS_AUTH })).text(),
        ),
      { what: "the pool's gauge at 1 again" },
    );
    const requestB = world.stub.turnRequests().find((r) => lastUserText(r.body).includes("[tag:B]"))!;
    expect(messagesText(requestB.body)).not.toContain("hazelnut-42");
    expect(requestB.body.model).toBe(jobB.model);
    expect((requestB.body.tools ?? []).length).toBe(0);
  });

  it("a job with a session, or of an agent with tools, never takes one", async () => {
    const before = await events("hit");
    world.stub.enqueue(text("fresh session"));
    const s = await submit(ex, { agent: "assistant", prompt: "remember me", session: { kind: "new" } });
    expect((await waitForJob(ex, s.body.jobId)).status).toBe("succeeded");
    world.stub.enqueue(text("with tools"));
    const g = await submit(ex, { agent: "general", prompt: "hello" });
    expect((await waitForJob(ex, g.body.jobId)).status).toBe("succeeded");
    expect(await events("hit")).toBe(before);
  });

  it("another model becomes a pool key of its own after its first job", async () => {
    world.stub.setDefault(text("ok"));
    const first = await submit(ex, { agent: "assistant", prompt: "hi", model: "claude-haiku-4-5" });
    expect((await waitForJob(ex, first.body.jobId)).status).toBe("succeeded");
    // The pool now keeps one process for each of the two models.
    await eventually(async () => (await cliProcesses(world)).length === 2, { what: "a process per model" });
    const hits = await events("hit");
    const second = await submit(ex, { agent: "assistant", prompt: "hi again", model: "claude-haiku-4-5" });
    expect((await waitForJob(ex, second.body.jobId)).status).toBe("succeeded");
    expect(await events("hit")).toBe(hits + 1);
    expect(world.stub.turnRequests().at(-1)!.body.model).toBe("claude-haiku-4-5");
  });

  it("a job with images takes one (they go in its turn); a job with a JSON schema (a process flag) runs cold", async () => {
    await eventually(async () => (await cliProcesses(world)).length >= 1, { what: "a prewarmed process" });
    const hits = await events("hit");
    const misses = await events("miss");
    world.stub.enqueue(text("a dot"));
    const gif = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
    const withImage = await submit(ex, {
      agent: "assistant",
      prompt: "[tag:I] what is this?",
      images: [{ mediaType: "image/gif", data: gif }],
    });
    expect(await waitForJob(ex, withImage.body.jobId)).toMatchObject({
      status: "succeeded",
      result: { text: "a dot" },
    });
    expect(await events("hit")).toBe(hits + 1);
    const req = world.stub.turnRequests().find((r) => lastUserText(r.body).includes("[tag:I]"))!;
    expect(imageBlocksOf(req.body).map((b) => b.source.data)).toEqual([gif]);

    world.stub.enqueue(structuredOutput({ answer: 42 }));
    const schema = await submit(ex, {
      agent: "assistant",
      prompt: "[tag:S] the answer?",
      jsonSchema: { type: "object", properties: { answer: { type: "integer" } }, required: ["answer"] },
    });
    expect(await waitForJob(ex, schema.body.jobId)).toMatchObject({
      status: "succeeded",
      result: { structuredOutput: { answer: 42 } },
    });
    expect(await events("hit")).toBe(hits + 1);
    expect(await events("miss")).toBe(misses);
  });

  it("a stopped executor leaves no prewarmed process and no pool home behind", async () => {
    await eventually(async () => (await cliProcesses(world)).length >= 1, { what: "prewarmed processes" });
    await ex.stop();
    expect(await cliProcesses(world)).toEqual([]);
    expect(await readdir(join(world.workspaceRoot, "homes")).catch(() => [])).toEqual([]);
  });
});
