import { isTerminal } from "@claude-gateway/contracts";
import { eventually, TEST_TOKEN, text } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../harness.js";
import { type GatewayProcess, spawnGateway, stopGateway } from "./gateway-process.js";
import { markdownTable } from "./support.js";

// Fault: a client that reads a long stream slowly. The gateway writes a stream only as fast as the
// client reads it (the node server waits for the socket to drain), so a stalled client holds the
// rest in the socket and in the job's event subscription, never more than the reply itself; the job
// runs at its own pace and is not failed for it.
let world: World;
let gateway: GatewayProcess;

/** About 250 KB: more than the loopback socket buffers hold while the client reads nothing. */
const LONG = Array.from({ length: 36_000 }, (_, i) => `w${i}`).join(" ");

beforeAll(async () => {
  world = await createWorld({ MAX_CONCURRENCY: "2" });
  world.stub.setDefault(text(LONG, { chunkSize: 1000, delayMs: 5 }));
  gateway = await spawnGateway(world);
});
afterAll(async () => {
  if (gateway) await stopGateway(gateway.child);
  await world?.close();
});

/** The chunks' text, and whether the stream ended with `[DONE]`. */
function parseSse(body: string): { content: string; done: boolean; errors: string[] } {
  let content = "";
  let done = false;
  const errors: string[] = [];
  for (const event of body.split("\n\n")) {
    const data = event
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6))
      .join("\n");
    if (data === "") continue;
    if (data === "[DONE]") {
      done = true;
      continue;
    }
    const chunk = JSON.parse(data) as OpenAI.ChatCompletionChunk & { error?: unknown };
    if (chunk.error) errors.push(JSON.stringify(chunk.error));
    content += chunk.choices?.[0]?.delta.content ?? "";
  }
  return { content, done, errors };
}

describe("a slow consumer of a long stream", () => {
  it("the job succeeds at its own pace; the client, reading later and slowly, gets the whole reply", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: TEST_TOKEN, maxRetries: 0 });
    const response = await client.chat.completions
      .create({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: "Say a lot." }],
        stream: true,
      })
      .asResponse();
    expect(response.status).toBe(200);
    const jobId = response.headers.get("x-job-id")!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = "";
    while (!body.includes('"content":"w')) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before any text");
      body += decoder.decode(value, { stream: true });
    }
    const readBeforeStall = body.length;

    // The client stops reading until its job is over.
    const job = await eventually(
      async () => {
        const j = await world.job(jobId);
        return isTerminal(j.status) ? j : undefined;
      },
      { what: "the job to end while its client reads nothing", timeoutMs: 90_000 },
    );
    expect(job).toMatchObject({ status: "succeeded", result: { text: LONG } });
    const finishedLine = () =>
      gateway.logs.some((l) => l.includes('"request finished"') && l.includes(jobId));
    const gatewayDoneAtResume = finishedLine();

    // Then reads the rest, a little at a time (the pause is the slowness under test).
    let reads = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += decoder.decode(value, { stream: true });
      reads++;
      await new Promise((r) => setTimeout(r, 2));
    }
    const seen = parseSse(body);
    expect(seen.errors).toEqual([]);
    expect(seen.done).toBe(true);
    expect(seen.content).toBe(LONG);
    expect(readBeforeStall).toBeLessThan(body.length);
    await eventually(finishedLine, { what: "the gateway to log the stream's end" });
    const outcome = gateway.logs.find((l) => l.includes('"request finished"') && l.includes(jobId))!;
    expect(JSON.parse(outcome)).toMatchObject({ outcome: "succeeded", stream: true });
    await world.noCliLeft();
    expect(gateway.errors).toEqual([]);

    console.log(
      `Slow consumer of a ${LONG.length}-character reply:\n${markdownTable(
        ["measure", "value"],
        [
          ["SSE bytes read before the client stalled", readBeforeStall],
          ["SSE bytes in all", body.length],
          ["reads after the stall", reads],
          ["job", job.status],
          [
            "gateway had written the whole stream when the client resumed",
            gatewayDoneAtResume ? "yes" : "no",
          ],
        ],
      )}`,
    );
  }, 180_000);
});
