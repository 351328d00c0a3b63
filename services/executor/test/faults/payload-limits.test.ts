import { lastUserText, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../../src/start.js";
import { createWorld, submit, type World, waitForJob } from "../harness.js";

// Payloads at and over what the bus carries (the nats-server's max_payload, 1 MiB by default):
// nothing the HTTP layer accepts may break a record write and leave a job unfinished.
let world: World;
let ex: RunningExecutor;
beforeAll(async () => {
  world = await createWorld();
  ex = await world.start({ MAX_CONCURRENCY: "2" });
});
afterAll(async () => {
  await world?.close();
});

describe("payloads and the bus's limit", () => {
  it("a prompt whose job would take over half of what the bus carries is a 413 before anything is queued", async () => {
    // Under the HTTP body limit (2 MiB) and the prompt limit (1M characters), over half of 1 MiB.
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "x".repeat(600_000) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: "prompt_too_large" });
    expect(String(r.body.detail)).toMatch(/at most \d+ fit/);
  });

  it("a prompt just under that runs to its end, whole", async () => {
    world.stub.setHandler(() => text("read it all"));
    const prompt = `${"y".repeat(300_000)} END`;
    const r = await submit(ex, { agent: "recruiter-triage", prompt });
    expect(r.status).toBe(202);
    const job = await waitForJob(ex, r.body.job.id as string);
    expect(job).toMatchObject({ status: "succeeded", result: { text: "read it all" } });
    expect(lastUserText(world.stub.turnRequests().at(-1)!.body)).toContain("END");
  });

  it("a reply larger than the bus carries ends the job failed result_too_large, with its spend, at once", async () => {
    world.stub.setHandler(() => text("z".repeat(1_200_000)));
    const r = await submit(ex, { agent: "recruiter-triage", prompt: "write a lot" });
    expect(r.status).toBe(202);
    const job = await waitForJob(ex, r.body.job.id as string);
    expect(job).toMatchObject({ status: "failed", error: { reason: "result_too_large" } });
    expect(job.costUsd).toBeGreaterThan(0);
  });
});
