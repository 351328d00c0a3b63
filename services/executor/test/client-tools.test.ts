import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobEvent, subjects, ToolResults, ToolResultsReply } from "@claude-gateway/contracts";
import { RemoteServiceError, request } from "@claude-gateway/nats";
import {
  callingClientTools,
  eventually,
  offeredToolNames,
  TEST_METRICS_AUTH,
  text,
  toolResultsOf,
} from "@claude-gateway/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningExecutor } from "../src/start.js";
import {
  AUTH,
  cliProcesses,
  createWorld,
  getJob,
  type Json,
  submit,
  type World,
  waitForJob,
} from "./harness.js";

// Client tool calling in the executor: a job with the caller's tools runs the real CLI on the stub,
// pauses when the model calls them, and goes on in the same process once the caller's results
// arrive — at either of two replicas (the one that did not take them forwards them).
let world: World;
let a: RunningExecutor;
let b: RunningExecutor;
let gateway: NatsConnection;
const CALLER = "tok_tester";

const WEATHER = {
  name: "get_weather",
  description: "The weather in a city.",
  inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const TIME = {
  name: "local_time",
  inputSchema: { type: "object", properties: { city: { type: "string" } } },
};

beforeAll(async () => {
  world = await createWorld();
  // Short enough for the expiry test to end; long enough for any result a test sends.
  const env = { TOOL_RESULTS_TIMEOUT_SECONDS: "12", MAX_CONCURRENCY: "2" };
  a = await world.start({ ...env, EXECUTOR_ID: "replica-a" });
  b = await world.start({ ...env, EXECUTOR_ID: "replica-b" });
  gateway = await connect(world.nats.optionsOf("openai-gateway"));
});
afterAll(async () => {
  await gateway?.close();
  await world?.close();
});

const postResults = async (ex: RunningExecutor, id: string, body: unknown) => {
  const res = await fetch(`${ex.url}/jobs/${id}/tool-results`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
};
/** The job once it is paused on calls (its record names them). */
const paused = async (id: string): Promise<Json> => {
  let job: Json = {};
  await eventually(
    async () => {
      job = await getJob(a, id);
      return job.toolCalls !== undefined || ["succeeded", "failed"].includes(job.status);
    },
    { what: `job ${id} paused on tool calls` },
  );
  return job;
};
const withTools = (prompt: string, tools: unknown[] = [WEATHER, TIME]) =>
  submit(a, { agent: "assistant", prompt, tools });
const awaiting = async (ex: RunningExecutor) => {
  const res = await fetch(`${ex.url}/metrics`, { headers: TEST_METRICS_AUTH });
  return Number(/executor_jobs_awaiting_tool_results (\d+)/.exec(await res.text())?.[1] ?? -1);
};

describe("a job with the caller's tools", () => {
  it("pauses on parallel calls, announces them, and goes on with the results in the same process", async () => {
    world.stub.setHandler(
      callingClientTools(
        [
          [
            { name: "get_weather", input: { city: "Sofia" } },
            { name: "local_time", input: { city: "Sofia" } },
          ],
        ],
        (results) => `Answer from: ${results.map((r) => r.content).join(" + ")}`,
      ),
    );
    const events: JobEvent[] = [];
    const sub = gateway.subscribe(subjects.jobs.principalEvents(CALLER));
    void (async () => {
      for await (const m of sub) events.push(m.json() as JobEvent);
    })();
    const submitted = await withTools("Weather and time in Sofia?");
    expect(submitted.status).toBe(202);
    const id = submitted.body.jobId as string;
    const job = await paused(id);
    expect(job.status).toBe("running");
    const calls = job.toolCalls.calls as Array<{ id: string; name: string; input: unknown }>;
    expect(calls.map((c) => [c.name, c.input])).toEqual([
      ["get_weather", { city: "Sofia" }],
      ["local_time", { city: "Sofia" }],
    ]);
    await eventually(async () => events.some((e) => e.jobId === id && e.type === "tool_calls"), {
      what: "the tool_calls event",
    });
    const announced = events.find((e) => e.jobId === id && e.type === "tool_calls");
    expect(announced).toMatchObject({ calls, seq: job.toolCalls.seq, expiresAt: job.toolCalls.expiresAt });
    // The agent's own tool events are not published for the caller's tools.
    expect(
      events.filter((e) => e.jobId === id && (e.type === "tool_use" || e.type === "tool_result")),
    ).toEqual([]);
    const holder = job.executor === "replica-a" ? a : b;
    expect(await awaiting(holder)).toBe(1);

    // Sent to the replica that does NOT hold the process: forwarded to the one that does.
    const other = holder === a ? b : a;
    const reply = await postResults(other, id, {
      results: [
        { id: calls[1]!.id, content: "14:05" },
        { id: calls[0]!.id, content: "sunny, 21 C" },
      ],
    });
    expect(reply).toEqual({ status: 200, body: { afterSeq: job.toolCalls.seq } });
    const done = await waitForJob(a, id);
    expect(done).toMatchObject({ status: "succeeded", result: { text: "Answer from: sunny, 21 C + 14:05" } });
    expect(done.toolCalls).toBeUndefined();
    expect(await awaiting(holder)).toBe(0);
    sub.unsubscribe();

    // What crossed the wire: only the caller's tools were offered, and both results came back
    // to the model under the API's ids, in one user message.
    const turns = world.stub.turnRequests();
    const [first, second] = turns.slice(-2);
    expect(offeredToolNames(first!.body).sort()).toEqual([
      "mcp__client__get_weather",
      "mcp__client__local_time",
    ]);
    expect(toolResultsOf(second!.body)).toEqual([
      { toolUseId: calls[0]!.id, content: "sunny, 21 C", isError: false },
      { toolUseId: calls[1]!.id, content: "14:05", isError: false },
    ]);
  });

  it("refuses results that are not exactly the pending calls, and another caller's, and keeps waiting", async () => {
    world.stub.setHandler(
      callingClientTools([[{ name: "get_weather", input: { city: "Varna" } }]], (results) =>
        results.map((r) => `${r.content}${r.isError ? " (failed)" : ""}`).join(""),
      ),
    );
    const id = (await withTools("Weather in Varna?")).body.jobId as string;
    const job = await paused(id);
    const [call] = job.toolCalls.calls as Array<{ id: string }>;

    const unknown = await postResults(a, id, { results: [{ id: "toolu_made_up", content: "x" }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("tool_results_mismatch");
    expect(unknown.body.detail).toContain("toolu_made_up");
    const twice = await postResults(b, id, {
      results: [
        { id: call!.id, content: "x" },
        { id: call!.id, content: "y" },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error).toBe("tool_results_mismatch");
    const malformed = await postResults(a, id, { results: [{ id: call!.id, content: 42 }] });
    expect(malformed.status).toBe(400);

    // Another caller (over NATS as the gateway acting for it): the job is not found for it.
    const foreign = request(gateway, {
      subject: subjects.jobs.tools("tok_mallory"),
      request: ToolResults,
      response: ToolResultsReply,
      payload: { id, results: [{ id: call!.id, content: "stolen" }] },
    });
    await expect(foreign).rejects.toMatchObject({ status: 404 });
    await expect(foreign).rejects.toBeInstanceOf(RemoteServiceError);
    expect((await getJob(a, id)).toolCalls?.calls).toHaveLength(1);

    // An error result reaches the model as one; then the job ends and nothing waits any more.
    const ok = await postResults(a, id, {
      results: [{ id: call!.id, content: "city not found", isError: true }],
    });
    expect(ok.status).toBe(200);
    expect(await waitForJob(a, id)).toMatchObject({
      status: "succeeded",
      result: { text: "city not found (failed)" },
    });
    const late = await postResults(a, id, { results: [{ id: call!.id, content: "again" }] });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe("job_finished");
  });

  it("pauses again when the model calls again, each pause answered on its own", async () => {
    world.stub.setHandler(
      callingClientTools(
        [
          [{ name: "get_weather", input: { city: "Ruse" } }],
          [{ name: "local_time", input: { city: "Ruse" } }],
        ],
        (results) => `then ${results[0]?.content}`,
      ),
    );
    const id = (await withTools("Weather, then time, in Ruse")).body.jobId as string;
    const first = await paused(id);
    expect(first.toolCalls.calls[0].name).toBe("get_weather");
    expect(
      (await postResults(a, id, { results: [{ id: first.toolCalls.calls[0].id, content: "fog" }] })).status,
    ).toBe(200);
    let second: Json = {};
    await eventually(
      async () => {
        second = await getJob(a, id);
        return second.toolCalls?.calls[0].name === "local_time";
      },
      { what: "the second pause" },
    );
    expect(second.toolCalls.seq).toBeGreaterThan(first.toolCalls.seq);
    // The first pause's calls are answered already.
    const stale = await postResults(a, id, {
      results: [{ id: first.toolCalls.calls[0].id, content: "fog" }],
    });
    expect(stale.status).toBe(400);
    expect(stale.body.detail).toContain(first.toolCalls.calls[0].id);
    await postResults(a, id, { results: [{ id: second.toolCalls.calls[0].id, content: "09:30" }] });
    expect(await waitForJob(a, id)).toMatchObject({ status: "succeeded", result: { text: "then 09:30" } });
  });

  it("fails tool_results_expired when no results come, its CLI process reaped", async () => {
    world.stub.setHandler(
      callingClientTools([[{ name: "get_weather", input: { city: "Burgas" } }]], () => "never"),
    );
    const id = (await withTools("Weather in Burgas?")).body.jobId as string;
    const job = await paused(id);
    const done = await waitForJob(a, id, 90_000);
    expect(done).toMatchObject({ status: "failed", error: { reason: "tool_results_expired" } });
    expect(done.error.message).toContain("get_weather");
    const holder = job.executor === "replica-a" ? a : b;
    expect(await awaiting(holder)).toBe(0);
    // Its process was reaped before its end was recorded.
    expect((await cliProcesses(world)).filter((p) => p.home.includes(id))).toEqual([]);
    const late = await postResults(b, id, { results: [{ id: job.toolCalls.calls[0].id, content: "late" }] });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe("tool_calls_expired");
  });

  it("a model that calls Bash or a tool the caller did not offer runs nothing, and the job does not pause", async () => {
    // Where the agent's user could write, were Bash run.
    const marker = join(tmpdir(), `cg-client-tools-pwned-${randomUUID()}`);
    world.stub.setHandler((req) => {
      if (req.auxiliary) return undefined;
      const results = toolResultsOf(req.body);
      if (results.length > 0) return text(`results: ${results.map((r) => r.isError).join(",")}`);
      return {
        kind: "message",
        blocks: [
          { type: "tool_use", name: "Bash", input: { command: `touch ${marker}` } },
          { type: "tool_use", name: "mcp__client__delete_everything", input: {} },
        ],
        stopReason: "tool_use",
      };
    });
    const id = (await withTools("Clean up.")).body.jobId as string;
    const done = await waitForJob(a, id);
    expect(done).toMatchObject({ status: "succeeded", result: { text: "results: true,true" } });
    expect(done.toolCalls).toBeUndefined();
    expect(existsSync(marker)).toBe(false);
    // Both calls went back to the model as errors, and the caller was never asked for anything.
    expect(toolResultsOf(world.stub.turnRequests().at(-1)!.body).map((r) => r.isError)).toEqual([true, true]);
  });

  it("is refused for an agent with tools of its own, and for a tool the CLI could not offer unchanged", async () => {
    const own = await submit(a, { agent: "general", prompt: "x", tools: [WEATHER] });
    expect(own.status).toBe(400);
    expect(own.body.error).toBe("tools_not_allowed");
    const long = await withTools("x", [{ name: "x".repeat(52), inputSchema: {} }]);
    expect(long.status).toBe(400);
    const notPaused = await postResults(a, "no-such-job", { results: [{ id: "t", content: "x" }] });
    expect(notPaused.status).toBe(404);
  });
});
