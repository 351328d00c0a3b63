import { isTerminal, type JobRecord } from "@claude-gateway/contracts";
import { eventually, messagesText, TEST_TOKEN, text } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../harness.js";
import { exited, type GatewayProcess, spawnGateway, stopGateway } from "./gateway-process.js";
import { markdownTable } from "./support.js";

// Faults on a stream's way back: the client goes away, or the gateway replica serving it is killed
// or frozen. Each gateway is its own process (`dist/main.js`); the executor, the CLI and the stub
// keep running. What must hold: no client hangs, no job is lost or left running.
let world: World;
const gateways: GatewayProcess[] = [];
const rows: string[][] = [];

/** The first words come at once, the rest over a minute: a job still running when the fault hits. */
const SLOW = `First words. ${"more ".repeat(60)}`;
/** About four seconds of reply in twenty pieces: it ends soon after the fault. */
const PACED = Array.from({ length: 20 }, (_, i) => `piece ${String(i).padStart(2, "0")}.`).join(" ");

beforeAll(async () => {
  world = await createWorld({ MAX_CONCURRENCY: "2" });
  world.stub.setHandler((req) => {
    const prompt = messagesText(req.body);
    if (prompt.includes("[slow]")) return text(SLOW, { chunkSize: 13, delayMs: 1000 });
    if (prompt.includes("[paced]")) return text(PACED, { chunkSize: 9, delayMs: 200 });
    return text("ok");
  });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => stopGateway(g.child)));
  await world?.close();
  console.log(`Faults mid-stream:\n${markdownTable(["fault", "client saw", "job"], rows)}`);
});
afterEach(async () => {
  await world.noCliLeft();
});

async function gateway(): Promise<GatewayProcess> {
  const gw = await spawnGateway(world);
  gateways.push(gw);
  return gw;
}

const sdk = (gw: GatewayProcess) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TEST_TOKEN, maxRetries: 0 });

/** A streaming completion read by hand up to its first text (leaving a `for await` would abort it). */
async function streamUntilText(client: OpenAI, prompt: string, signal?: AbortSignal) {
  const { data: stream, response } = await client.chat.completions
    .create(
      { model: "claude-haiku-4-5", messages: [{ role: "user", content: prompt }], stream: true },
      signal ? { signal } : {},
    )
    .withResponse();
  const jobId = response.headers.get("x-job-id")!;
  const chunks = stream[Symbol.asyncIterator]();
  let content = "";
  while (content === "") {
    const { value, done } = await chunks.next();
    if (done) throw new Error("the stream ended before any text");
    content += value.choices[0]?.delta.content ?? "";
  }
  /** The rest of the stream: its text, or the error it ended with. */
  const rest = async (): Promise<{ content: string; error?: unknown }> => {
    try {
      for (;;) {
        const { value, done } = await chunks.next();
        if (done) return { content };
        content += value.choices[0]?.delta.content ?? "";
      }
    } catch (error) {
      return { content, error };
    }
  };
  return { jobId, rest };
}

const finalJob = (jobId: string) =>
  eventually(
    async () => {
      const job = await world.job(jobId);
      return isTerminal(job.status) ? job : undefined;
    },
    { what: `job ${jobId} to reach a final state`, timeoutMs: 60_000 },
  );

const jobCell = (job: JobRecord) => `${job.status}${job.error ? ` (${job.error.reason})` : ""}`;
const errorCell = (err: unknown) =>
  err instanceof Error ? `${err.constructor.name}: ${err.message.split("\n")[0]}` : String(err);

describe("a client that disconnects mid-stream", () => {
  it("cancels its job, and the job's CLI is gone", async () => {
    const gw = await gateway();
    const abort = new AbortController();
    const { jobId, rest } = await streamUntilText(sdk(gw), "[slow] talk slowly", abort.signal);
    expect((await world.job(jobId)).status).toBe("running");
    expect((await world.cliProcesses()).length).toBeGreaterThan(0);
    abort.abort();
    // The SDK ends an aborted stream quietly, with what arrived so far.
    const seen = await rest();
    expect(seen.error).toBeUndefined();
    expect(seen.content.length).toBeLessThan(SLOW.length);
    const job = await finalJob(jobId);
    expect(job).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
    await world.noCliLeft();
    rows.push(["client aborts after the first chunk", "its stream ends (SDK: no error)", jobCell(job)]);
  });
});

describe("a gateway replica killed mid-stream (SIGKILL)", () => {
  it("the client gets a connection error, not a hang; the job is not lost: nobody cancels it, it finishes", async () => {
    const gw = await gateway();
    const { jobId, rest } = await streamUntilText(sdk(gw), "[paced] keep going");
    gw.child.kill("SIGKILL");
    await exited(gw.child);
    const seen = await rest();
    // The SDK raises the cut body as an error of its own or the fetch's `terminated`.
    expect(seen.error).toBeInstanceOf(Error);
    expect(seen.error).not.toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(PACED.startsWith(seen.content)).toBe(true);
    expect(seen.content.length).toBeLessThan(PACED.length);
    // The executor does not watch the submitter: the job runs to its end, with the whole answer.
    const job = await finalJob(jobId);
    expect(job).toMatchObject({ status: "succeeded", result: { text: PACED } });
    await world.noCliLeft();
    // The dead replica never gave the caller's in-flight slot back: by design it lapses on its own
    // (the job's timeout plus the queue allowance, `chat.ts`), so it is still counted here.
    const usage = (await (
      await fetch(`${(await gateway()).url}/v1/usage`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })
    ).json()) as { inFlight: number };
    expect(usage.inFlight).toBe(1);
    rows.push([
      "gateway SIGKILLed after the first chunk",
      errorCell(seen.error),
      `${jobCell(job)}; caller's in-flight slot still held: ${usage.inFlight}`,
    ]);
  });
});

describe("a gateway replica frozen mid-stream (SIGSTOP, then SIGCONT)", () => {
  it("the stream resumes and completes with the whole answer; the job succeeded; nothing left running", async () => {
    const gw = await gateway();
    const { jobId, rest } = await streamUntilText(sdk(gw), "[paced] freeze me");
    gw.child.kill("SIGSTOP");
    // Frozen until its job is over: everything the job said since is waiting for the replica.
    const job = await finalJob(jobId);
    gw.child.kill("SIGCONT");
    const seen = await rest();
    expect(seen.error).toBeUndefined();
    expect(seen.content).toBe(PACED);
    expect(job).toMatchObject({ status: "succeeded", result: { text: PACED } });
    await world.noCliLeft();
    // The thawed replica still serves.
    const after = await sdk(gw).chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "still there?" }],
    });
    expect(after.choices[0]?.message.content).toBe("ok");
    expect(gw.errors).toEqual([]);
    rows.push([
      "gateway frozen until its job ended, then thawed",
      "the whole answer, then [DONE]",
      jobCell(job),
    ]);
  });
});
