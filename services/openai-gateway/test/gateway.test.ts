import {
  DEFAULT_SUPPORTED_MODELS,
  JobRef,
  JobReply,
  JobSubmission,
  SubmitReply,
  subjects,
} from "@claude-gateway/contracts";
import { request } from "@claude-gateway/nats";
import { apiError, eventually, messagesText, streamGate, systemText, text } from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, TESTER, type World } from "./harness.js";

let world: World;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  // One slot and one waiting job: the third job at once is refused (the 429 test).
  world = await createWorld({ MAX_CONCURRENCY: "1", MAX_QUEUE_DEPTH: "1" });
  gateway = await world.gateway();
  client = world.client(gateway);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});
afterEach(async () => {
  // Every test leaves the executor idle and no CLI behind.
  await world.noCliLeft();
});

/** The stub's answers by marker in the prompt: `[hang]` never answers; anything else gets `reply`. */
function answer(reply: ReturnType<typeof text>) {
  world.stub.setHandler((req) => (messagesText(req.body).includes("[hang]") ? { kind: "hang" } : reply));
}

const user = (content: string) => [{ role: "user" as const, content }];

describe("completions through the real stack", () => {
  it("non-streaming: the SDK gets the CLI's answer, the requested model and usage", async () => {
    answer(text("Hello from the stub."));
    const completion = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: user("Say hello."),
    });
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "claude-haiku-4-5",
      choices: [
        { index: 0, message: { role: "assistant", content: "Hello from the stub." }, finish_reason: "stop" },
      ],
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    const [turn] = world.stub.turnRequests();
    expect(turn?.body.model).toBe("claude-haiku-4-5");
    expect(messagesText(turn!.body)).toContain("Say hello.");
    // The job ran as the authenticated caller, with the gateway's agent, budget and timeout; the
    // gateway's own id for it (scoped to that caller) finds it.
    const job = await world.job(completion.id.replace("chatcmpl-", "oai-"));
    expect(job).toMatchObject({
      status: "succeeded",
      caller: TESTER,
      agent: "assistant",
      clientId: completion.id.replace("chatcmpl-", "oai-"),
    });
    expect(job.submission).toMatchObject({ budgetUsd: 2, timeoutSeconds: 900 });
  });

  it("streaming: chunks arrive as the agent writes, and assemble into what the stub said", async () => {
    const said = "Streaming works in small pieces, one delta at a time.";
    // The stub sends two deltas, then holds the rest until this client has seen content.
    const gate = streamGate();
    answer(text(said, { chunkSize: 6, pauseAfterDeltas: { count: 2, until: gate.until } }));
    const stream = await client.chat.completions.create({
      model: "claude-sonnet-4-6",
      messages: user("Stream something."),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    let contentChunks = 0;
    for await (const chunk of stream) {
      chunks.push(chunk);
      if (chunk.choices[0]?.delta.content) {
        contentChunks += 1;
        gate.open();
      }
    }
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(said);
    // Live, not a finished answer cut up: content reached the client while the stub was still
    // holding the rest of the answer.
    expect(contentChunks).toBeGreaterThanOrEqual(5);
    expect(gate.openedBy()).toBe("test");
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe("stop");
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === "claude-sonnet-4-6")).toBe(true);
  });

  it("streaming without include_usage sends no usage", async () => {
    answer(text("Short."));
    const stream = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: user("Hi"),
      stream: true,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Short.");
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it("a conversation reaches the CLI as one prompt: instructions, earlier turns, then the request", async () => {
    answer(text("Your name is Ada."));
    const completion = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [
        { role: "system", content: "Answer in one short sentence." },
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Nice to meet you, Ada." },
        { role: "developer", content: [{ type: "text", text: "Never use emoji." }] },
        { role: "user", content: "What is my name?" },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Your name is Ada.");
    const [turn] = world.stub.turnRequests();
    expect(turn?.body.model).toBe("claude-haiku-4-5");
    const sent = messagesText(turn!.body);
    expect(sent).toContain(
      "<instructions>\nAnswer in one short sentence.\n\nNever use emoji.\n</instructions>",
    );
    expect(sent).toContain(
      "<conversation>\n<user>\nMy name is Ada.\n</user>\n\n<assistant>\nNice to meet you, Ada.\n</assistant>\n</conversation>",
    );
    expect(sent).toContain("<request>\nWhat is my name?\n</request>");
    // One user turn for the CLI: the transcript is text inside it, not fake turns of its own.
    expect(turn?.body.messages?.filter((m) => m.role === "assistant")).toEqual([]);
    // The agent keeps its own system prompt; the caller's instructions are not it.
    expect(systemText(turn!.body)).toMatch(/helpful, knowledgeable assistant/);
    expect(systemText(turn!.body)).not.toContain("Answer in one short sentence.");
  });

  it("a stop sequence cuts the answer", async () => {
    answer(text("one, two, three, four"));
    const completion = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: user("Count."),
      stop: [", three"],
    });
    expect(completion.choices[0]?.message.content).toBe("one, two");
  });

  it("a request without a model runs the default one", async () => {
    answer(text("ok"));
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: user("Hi") }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe("claude-sonnet-4-6");
    expect(world.stub.turnRequests()[0]?.body.model).toBe("claude-sonnet-4-6");
  });
});

describe("models", () => {
  it("models.list() is the allowlist; retrieve finds one and refuses others", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual([...DEFAULT_SUPPORTED_MODELS]);
    expect(page.data.every((m) => m.object === "model" && m.owned_by === "anthropic")).toBe(true);
    expect((await client.models.retrieve("claude-opus-4-7")).id).toBe("claude-opus-4-7");
    await expect(client.models.retrieve("gpt-4o")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("errors, as the SDK's own classes", () => {
  it("an unknown model: BadRequestError whose message lists the supported ids; nothing runs", async () => {
    const err = await client.chat.completions
      .create({ model: "gpt-4o", messages: user("Hi") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.code).toBe("model_not_found");
    expect(e.param).toBe("model");
    expect(e.message).toContain("gpt-4o");
    for (const id of ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"])
      expect(e.message).toContain(id);
    expect(world.stub.requests).toEqual([]);
  });

  it("prompts and replies larger than the bus carries travel through the payload store, whole", async () => {
    // 700 KB: under NATS's 1 MiB, over what a job's record may give its prompt. 600 000 Cyrillic
    // letters: under the 1M-character limit, ~1.2 MB in UTF-8, over what one message carries.
    answer(text("read it"));
    for (const prompt of [`${"p".repeat(700_000)}END`, `${"ж".repeat(600_000)}КРАЙ`]) {
      const completion = await client.chat.completions.create(
        { model: "claude-sonnet-4-6", messages: user(prompt) },
        { maxRetries: 0 },
      );
      expect(completion.choices[0]?.message.content).toBe("read it");
      // The CLI got the whole prompt, not the beginning a record keeps.
      expect(messagesText(world.stub.turnRequests().at(-1)!.body)).toContain(prompt);
    }
    // A reply of 1.2 MB in UTF-8: the record keeps its beginning, the client gets all of it.
    const reply = `${"ж".repeat(600_000)}КРАЙ`;
    answer(text(reply));
    const big = await client.chat.completions.create(
      { model: "claude-sonnet-4-6", messages: user("write a lot") },
      { maxRetries: 0 },
    );
    expect(big.choices[0]?.message.content).toBe(reply);
    const streamed: string[] = [];
    for await (const chunk of await client.chat.completions.create({
      model: "claude-sonnet-4-6",
      messages: user("write a lot again"),
      stream: true,
    }))
      streamed.push(chunk.choices[0]?.delta?.content ?? "");
    expect(streamed.join("")).toBe(reply);
  });

  it("what the CLI cannot honour: BadRequestError naming the param", async () => {
    const err = await client.chat.completions
      .create({ model: "claude-haiku-4-5", messages: user("Hi"), n: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");
  });

  it("a wrong key: AuthenticationError", async () => {
    const err = await world
      .client(gateway, "not-the-token-0000")
      .chat.completions.create({ model: "claude-haiku-4-5", messages: user("Hi") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
    expect(world.stub.requests).toEqual([]);
  });

  it.each<[string, ReturnType<typeof apiError>, string]>([
    ["an upstream failure", apiError(500, "stub exploded"), "upstream_error"],
    ["a CLI that is not logged in", apiError(401, "invalid x-api-key"), "claude_not_authenticated"],
    ["the API rate-limiting the subscription", apiError(429, "rate limited"), "upstream_error"],
    ["the API overloaded", apiError(529, "overloaded"), "upstream_error"],
  ])("%s: InternalServerError 503 with the reason, streaming or not", async (_name, reply, code) => {
    world.stub.setDefault(reply);
    for (const stream of [false, true]) {
      const err = await client.chat.completions
        .create({ model: "claude-haiku-4-5", messages: user("Hi"), stream })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      const e = err as InstanceType<typeof OpenAI.InternalServerError>;
      expect(e.status).toBe(503);
      expect(e.code).toBe(code);
      expect(e.type).toBe("api_error");
      expect(e.message).toContain(`(${code})`);
    }
  });

  it("a job past GATEWAY_TIMEOUT_SECONDS: a 504", async () => {
    answer(text("never"));
    const short = world.client(await world.gateway({ GATEWAY_TIMEOUT_SECONDS: "2" }));
    const err = await short.chat.completions
      .create({ model: "claude-haiku-4-5", messages: user("[hang] take your time") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(504);
    expect((err as InstanceType<typeof OpenAI.InternalServerError>).code).toBe("timeout");
  });

  it("a full queue: RateLimitError with Retry-After", async () => {
    answer(text("never"));
    // Fill the executor directly: one job in its only slot, one waiting, as MAX_QUEUE_DEPTH allows.
    const ids: string[] = [];
    for (const tag of ["a", "b"]) {
      const r = await request(world.nc, {
        subject: subjects.jobs.submit(TESTER),
        request: JobSubmission,
        response: SubmitReply,
        payload: { id: `fill-${tag}`, agent: "recruiter-triage", prompt: `[hang] ${tag}` },
      });
      ids.push(r.job.id);
      if (tag === "a") await world.stub.waitForTurnRequests(1);
    }
    const err = await client.chat.completions
      .create({ model: "claude-haiku-4-5", messages: user("Hi") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.code).toBe("rate_limit_exceeded");
    expect(e.headers?.get("retry-after")).toBe("30");
    for (const id of ids) {
      await request(world.nc, {
        subject: subjects.jobs.cancel(TESTER),
        request: JobRef,
        response: JobReply,
        payload: { id },
      });
    }
    await eventually(
      async () => (await Promise.all(ids.map((id) => world.job(id)))).every((j) => j.status === "cancelled"),
      {
        what: "the filler jobs cancelled",
      },
    );
  });
});

describe("a client that goes away cancels its job", () => {
  it("disconnecting mid-stream cancels the job and kills its CLI", async () => {
    // The first words come at once, the rest would take a minute.
    answer(text(`First words. ${"more ".repeat(60)}`, { chunkSize: 13, delayMs: 1000 }));
    const abort = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: "claude-haiku-4-5", messages: user("Talk slowly."), stream: true },
        { signal: abort.signal },
      )
      .withResponse();
    const jobId = response.headers.get("x-job-id")!;
    // The executor's id for the job (a UUID it minted).
    expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Read by hand: leaving a `for await` would make the SDK abort the request itself.
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      const { value } = await chunks.next();
      if (value?.choices[0]?.delta.content) break;
    }
    expect((await world.job(jobId)).status).toBe("running");
    expect((await world.cliProcesses()).length).toBeGreaterThan(0);
    abort.abort();
    await eventually(async () => (await world.job(jobId)).status === "cancelled", { what: "job cancelled" });
    expect((await world.job(jobId)).error?.reason).toBe("cancelled");
    await world.noCliLeft();
  });

  it("disconnecting while waiting for a non-streaming answer cancels the job", async () => {
    answer(text("never"));
    const abort = new AbortController();
    const seen = world.events.length;
    const pending = client.chat.completions
      .create({ model: "claude-haiku-4-5", messages: user("[hang] think hard") }, { signal: abort.signal })
      .catch((e: unknown) => e);
    await world.stub.waitForTurnRequests(1);
    const running = await eventually(() =>
      world.events.slice(seen).find((e) => e.type === "status" && e.status === "running"),
    );
    abort.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await eventually(async () => (await world.job(running.jobId)).status === "cancelled", {
      what: "job cancelled",
    });
    await world.noCliLeft();
  });
});

describe("shutdown", () => {
  it("stopping the gateway cuts open requests after the grace period and cancels their jobs", async () => {
    answer(text("never"));
    const gw = await world.gateway({ SHUTDOWN_GRACE_SECONDS: "0" });
    const seen = world.events.length;
    const pending = world
      .client(gw)
      .chat.completions.create({ model: "claude-haiku-4-5", messages: user("[hang] long job") })
      .catch((e: unknown) => e);
    await world.stub.waitForTurnRequests(1);
    const running = await eventually(() =>
      world.events.slice(seen).find((e) => e.type === "status" && e.status === "running"),
    );
    await gw.stop();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    await eventually(async () => (await world.job(running.jobId)).status === "cancelled", {
      what: "job cancelled",
    });
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  });
});
