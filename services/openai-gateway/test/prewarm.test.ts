import { eventually, lastUserText, messagesText, TEST_METRICS_AUTH, text } from "@claude-gateway/testkit";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "./harness.js";

// The executor's prewarmed CLI processes serve stateless completions: the official SDK → gateway →
// NATS → executor → a CLI started before the request → Messages stub.
let world: World;
let client: OpenAI;

beforeAll(async () => {
  world = await createWorld({ PREWARM_POOL_SIZE: "1" });
  client = world.client(await world.gateway());
});
afterAll(async () => {
  await world?.close();
});

const prewarm = async (event: string) => {
  const res = await fetch(`${world.executor.url}/metrics`, { headers: TEST_METRICS_AUTH });
  const m = new RegExp(`executor_prewarm_events_total\\{event="${event}"\\} (\\d+)`).exec(await res.text());
  return Number(m?.[1] ?? 0);
};

describe("completions served by prewarmed CLI processes", () => {
  it("each completion gets a fresh prewarmed process: answered, streamed, and no context shared", async () => {
    await eventually(async () => (await prewarm("started")) >= 1, { what: "a prewarmed process" });
    world.stub.enqueue(text("Stored it."));
    const first = await client.chat.completions.create({
      model: "claude-sonnet-4-6",
      messages: [{ role: "user", content: "[one] my PIN is 9173" }],
    });
    expect(first.choices[0]!.message.content).toBe("Stored it.");
    expect(await prewarm("hit")).toBe(1);

    await eventually(async () => (await prewarm("started")) >= 2, { what: "the pool refilled" });
    world.stub.enqueue(text("No PIN here.", { chunkSize: 3 }));
    const stream = await client.chat.completions.create({
      model: "claude-sonnet-4-6",
      messages: [{ role: "user", content: "[two] what is my PIN?" }],
      stream: true,
    });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
    expect(content).toBe("No PIN here.");
    expect(await prewarm("hit")).toBe(2);
    const second = world.stub.turnRequests().find((r) => lastUserText(r.body).includes("[two]"))!;
    expect(messagesText(second.body)).not.toContain("9173");
    expect(second.body.model).toBe("claude-sonnet-4-6");
  });
});
