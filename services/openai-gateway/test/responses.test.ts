import { JobRef, JobReply, subjects } from "@claude-gateway/contracts";
import { request } from "@claude-gateway/nats";
import {
  apiError,
  imageBlocksOf,
  lastUserText,
  messagesText,
  streamGate,
  structuredOutput,
  TEST_TOKEN,
  text,
} from "@claude-gateway/testkit";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, TESTER, type World } from "./harness.js";

// The Responses API through the real stack: the official SDK, the gateway, a real executor running
// the real CLI against the Messages API stub, on a real nats-server.

const OTHER_TOKEN = "other-token-0123456789";
let world: World;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  world = await createWorld();
  gateway = await world.gateway({ AUTH_TOKENS: `tester=${TEST_TOKEN},other=${OTHER_TOKEN}` });
  client = world.client(gateway);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.stub.reset();
});
afterEach(async () => {
  await world.noCliLeft();
});

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("responses.create", () => {
  it("answers with a Response whose output_text is the CLI's answer; the job keeps a session", async () => {
    world.stub.setDefault(text("Hello from the stub."));
    const r = await client.responses.create({
      model: "claude-haiku-4-5",
      input: "Say hello.",
      instructions: "Be brief.",
      metadata: { trace: "t-1" },
    });
    expect(r.output_text).toBe("Hello from the stub.");
    expect(r.id).toMatch(/^resp_[0-9a-f-]{36}$/);
    expect(r).toMatchObject({
      object: "response",
      status: "completed",
      model: "claude-haiku-4-5",
      instructions: "Be brief.",
      metadata: { trace: "t-1" },
      error: null,
      incomplete_details: null,
      previous_response_id: null,
      output: [{ type: "message", role: "assistant", status: "completed" }],
    });
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    expect(r.usage?.output_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0));
    const [turn] = world.stub.turnRequests();
    expect(turn?.body.model).toBe("claude-haiku-4-5");
    expect(messagesText(turn!.body)).toContain("<instructions>\nBe brief.\n</instructions>");
    expect(messagesText(turn!.body)).toContain("<request>\nSay hello.\n</request>");
    // The job is the caller's, under the response's own id; a stored response has a session.
    const job = await world.job(r.id.replace("resp_", "resp-"));
    expect(job).toMatchObject({ status: "succeeded", caller: TESTER, agent: "assistant" });
    expect(job.submission.session).toEqual({ kind: "new" });
  });

  it("stream: true — the Responses events, live, in sequence, ending with response.completed", async () => {
    const said = "Streaming works in small pieces, one delta at a time.";
    // The stub sends two deltas, then holds the rest until this client has seen one.
    const gate = streamGate();
    world.stub.setDefault(text(said, { chunkSize: 6, pauseAfterDeltas: { count: 2, until: gate.until } }));
    const stream = await client.responses.create({
      model: "claude-sonnet-4-6",
      input: "Stream.",
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      if (event.type === "response.output_text.delta") gate.open();
    }
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.slice(0, 4).map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(events.slice(-4).map((e) => e.type)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []));
    expect(deltas.join("")).toBe(said);
    // Live, not a finished answer cut up: the first delta reached the client while the stub was
    // still holding the rest of the answer.
    expect(deltas.length).toBeGreaterThanOrEqual(5);
    expect(gate.openedBy()).toBe("test");
    const done = events.at(-1);
    expect(done?.type === "response.completed" && done.response).toMatchObject({
      status: "completed",
      model: "claude-sonnet-4-6",
      output: [{ content: [{ type: "output_text", text: said }] }],
    });
  });

  it("the SDK's responses.stream helper: text deltas as they come, the final response whole", async () => {
    world.stub.setDefault(text("Helper streams too.", { chunkSize: 5 }));
    const deltas: string[] = [];
    const stream = client.responses
      .stream({ model: "claude-haiku-4-5", input: "Stream with the helper." })
      .on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join("")).toBe("Helper streams too.");
    expect(final.output_text).toBe("Helper streams too.");
    expect(final.status).toBe("completed");
  });

  it("retrieve reads a stored response back", async () => {
    world.stub.setDefault(text("Keep this."));
    const r = await client.responses.create({ model: "claude-haiku-4-5", input: "Say it." });
    const again = await client.responses.retrieve(r.id);
    expect(again).toMatchObject({ id: r.id, status: "completed", output: r.output, usage: r.usage });
    expect(again.output_text).toBe("Keep this.");
    const err = await world
      .client(gateway, OTHER_TOKEN)
      .responses.retrieve(r.id)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("an image reaches the model with the prompt", async () => {
    world.stub.setDefault(text("A single pixel."));
    const r = await client.responses.create({
      model: "claude-haiku-4-5",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: `data:image/png;base64,${PNG_B64}`, detail: "auto" },
          ],
        },
      ],
    });
    expect(r.output_text).toBe("A single pixel.");
    const [turn] = world.stub.turnRequests();
    expect(imageBlocksOf(turn!.body).map((b) => b.source.data)).toEqual([PNG_B64]);
    expect(lastUserText(turn!.body)).toContain("What is this?\n[image 1]");
  });
});

describe("previous_response_id", () => {
  it("continues the conversation: the earlier turn and its answer reach the model", async () => {
    world.stub.setDefault(text("Nice to meet you, Ada."));
    const first = await client.responses.create({ model: "claude-haiku-4-5", input: "My name is Ada." });
    world.stub.setDefault(text("Your name is Ada."));
    const second = await client.responses.create({
      model: "claude-haiku-4-5",
      input: "What is my name?",
      previous_response_id: first.id,
    });
    expect(second.output_text).toBe("Your name is Ada.");
    expect(second.previous_response_id).toBe(first.id);
    const turn = world.stub.turnRequests().at(-1)!;
    const messages = turn.body.messages ?? [];
    const said = (role: string) =>
      messages
        .filter((m) => m.role === role)
        .map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)))
        .join("\n");
    // The history is the session's own turns, not a transcript pasted into the prompt.
    expect(said("user")).toContain("My name is Ada.");
    expect(said("assistant")).toContain("Nice to meet you, Ada.");
    // The CLI adds its own reminders to a resumed turn; the prompt is the new input alone.
    expect(lastUserText(turn.body)).toMatch(/What is my name\?$/);
    expect(lastUserText(turn.body)).not.toContain("<conversation>");
    // A fork: the first response can be continued again.
    world.stub.setDefault(text("Lovelace, I guess."));
    const branch = await client.responses.create({
      model: "claude-haiku-4-5",
      input: "And my surname?",
      previous_response_id: first.id,
    });
    expect(branch.output_text).toBe("Lovelace, I guess.");
    const branchTurn = world.stub.turnRequests().at(-1)!;
    expect(messagesText(branchTurn.body)).toContain("My name is Ada.");
    expect(messagesText(branchTurn.body)).not.toContain("What is my name?");
  });

  it("another caller's response, or an unknown one, is refused with a 400 naming it; nothing runs", async () => {
    world.stub.setDefault(text("Secret."));
    const theirs = await world
      .client(gateway, OTHER_TOKEN)
      .responses.create({ model: "claude-haiku-4-5", input: "Remember: 42." });
    const before = world.stub.turnRequests().length;
    for (const id of [theirs.id, "resp_00000000-0000-4000-8000-000000000000"]) {
      const err = await client.responses
        .create({ model: "claude-haiku-4-5", input: "What was it?", previous_response_id: id })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.param).toBe("previous_response_id");
      expect(e.code).toBe("previous_response_not_found");
    }
    expect(world.stub.turnRequests()).toHaveLength(before);
  });
});

describe("structured output (text.format)", () => {
  const CITY = {
    type: "object",
    properties: { city: { type: "string" }, population: { type: "integer" } },
    required: ["city", "population"],
    additionalProperties: false,
  };

  it("json_schema: the answer is the structured output as JSON, streamed or not", async () => {
    world.stub.setDefault(
      structuredOutput({ city: "Sofia", population: 1_200_000 }, { preamble: "Let me see." }),
    );
    const format = { type: "json_schema" as const, name: "city", schema: CITY, strict: true };
    const r = await client.responses.create({
      model: "claude-haiku-4-5",
      input: "Bulgaria's capital?",
      text: { format },
    });
    expect(JSON.parse(r.output_text)).toEqual({ city: "Sofia", population: 1_200_000 });
    expect(r.text?.format).toEqual(format);
    const deltas: string[] = [];
    const final = await client.responses
      .stream({ model: "claude-haiku-4-5", input: "Again?", text: { format } })
      .on("response.output_text.delta", (e) => deltas.push(e.delta))
      .finalResponse();
    // The agent's prose is not the answer: only the object streams.
    expect(deltas).toEqual(['{"city":"Sofia","population":1200000}']);
    expect(JSON.parse(final.output_text)).toEqual({ city: "Sofia", population: 1_200_000 });
  });

  it("an invalid schema is a 400 before anything runs", async () => {
    const err = await client.responses
      .create({
        model: "claude-haiku-4-5",
        input: "x",
        text: { format: { type: "json_schema", name: "bad", schema: { type: "object", required: "city" } } },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("text.format.schema");
    expect(world.stub.requests).toEqual([]);
  });
});

describe("failures", () => {
  it("a failure before any text: the SDK's typed error, streaming or not", async () => {
    world.stub.setDefault(apiError(500, "stub exploded"));
    for (const stream of [false, true]) {
      const err = await client.responses
        .create({ model: "claude-haiku-4-5", input: "Hi", stream })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect((err as InstanceType<typeof OpenAI.InternalServerError>).code).toBe("upstream_error");
    }
  });

  it("a failure mid-stream: response.failed, then the SDK raises — never a silent, cut-off success", async () => {
    // The first words come soon; the rest would take a minute. The job is cancelled (as an
    // operator or a shutdown would) once the client has seen text.
    world.stub.setDefault(text(`First words. ${"more ".repeat(60)}`, { chunkSize: 13, delayMs: 1000 }));
    const cancel = (responseId: string) =>
      request(world.nc, {
        subject: subjects.jobs.cancel(TESTER),
        request: JobRef,
        response: JobReply,
        payload: { id: responseId.replace("resp_", "resp-") },
      });
    const seen: string[] = [];
    let id = "";
    const raised = await (async () => {
      const stream = await client.responses.create({
        model: "claude-haiku-4-5",
        input: "Talk slowly.",
        stream: true,
      });
      for await (const event of stream) {
        seen.push(event.type);
        if (event.type === "response.created") id = event.response.id;
        if (event.type === "response.output_text.delta" && seen.indexOf(event.type) === seen.length - 1)
          await cancel(id);
      }
    })().catch((e: unknown) => e);
    expect(seen).toContain("response.output_text.delta");
    expect(seen.at(-1)).toBe("response.failed");
    expect(seen).not.toContain("response.completed");
    expect(raised).toBeInstanceOf(OpenAI.APIError);
    expect((raised as Error).message).toMatch(/cancelled/);
    await world.noCliLeft();
    // The helper: finalResponse rejects.
    const helper = client.responses.stream({ model: "claude-haiku-4-5", input: "Talk slowly again." });
    let helperId = "";
    helper.on("response.created", (e) => {
      helperId = e.response.id;
    });
    helper.once("response.output_text.delta", () => void cancel(helperId));
    const rejected = await helper.finalResponse().catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(OpenAI.APIError);
  });
});
