import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import {
  apiError,
  imageBlocksOf,
  lastUserText,
  type MessagesRequestBody,
  messagesText,
  offeredToolNames,
  STRUCTURED_OUTPUT_TOOL,
  streamGate,
  structuredOutput,
  systemText,
  TEST_TOKEN,
  tempDir,
  text,
  toolUse,
} from "@claude-gateway/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, TESTER, type World } from "./harness.js";

/**
 * `POST /v1/messages` with `@anthropic-ai/sdk` against the whole path: gateway → NATS → executor →
 * the real CLI → the Messages API stub. What crossed the wire is asserted at the stub.
 */

/** tester may run `assistant` and `general`; bob has haiku only; carol may start one request a minute. */
const POLICY = {
  defaults: {
    agents: ["assistant", "general"],
    models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
    maxConcurrent: 4,
    requestsPerMinute: 1000,
    budgetUsdPerDay: 100,
  },
  callers: { bob: { models: ["claude-haiku-4-5"] }, carol: { requestsPerMinute: 1 } },
};
const TOKENS = { bob: "bob-token-0123456789ab", carol: "carol-token-0123456789" };
/** A 1×1 PNG. */
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

let world: World;
let gateway: RunningGateway;
let client: Anthropic;
let cleanup: () => Promise<void>;
const anthropic = (apiKey: string) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0 });

beforeAll(async () => {
  const dir = await tempDir("cg-oai-messages-");
  cleanup = dir.cleanup;
  const policy = join(dir.dir, "policy.json");
  await writeFile(policy, JSON.stringify(POLICY), { mode: 0o600 });
  world = await createWorld({ CALLER_POLICY_FILE: policy });
  gateway = await world.gateway({
    CALLER_POLICY_FILE: policy,
    AUTH_TOKENS: [`tester=${TEST_TOKEN}`, `bob=${TOKENS.bob}`, `carol=${TOKENS.carol}`].join(","),
  });
  client = anthropic(TEST_TOKEN);
});
afterAll(async () => {
  await world?.close();
  await cleanup?.();
});
beforeEach(() => {
  world.stub.reset();
});
afterEach(async () => {
  await world.noCliLeft();
});

const user = (content: string) => [{ role: "user" as const, content }];

/** The request answers a tool call: its last message carries a tool result. */
const afterToolResult = (body: MessagesRequestBody) =>
  JSON.stringify(body.messages?.at(-1)?.content ?? "").includes("tool_result");

/** What an SDK call threw. */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Anthropic.APIError);
  return err as InstanceType<typeof Anthropic.APIError>;
}

describe("messages.create", () => {
  it("answers a Message: the CLI's answer, the model asked for, msg_ id, usage; the job is the caller's", async () => {
    world.stub.setDefault(text("Hello from the stub."));
    const { data: message, response } = await client.messages
      .create({ model: "claude-haiku-4-5", max_tokens: 1024, messages: user("Say hello.") })
      .withResponse();
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: "Hello from the stub." }],
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const [turn] = world.stub.turnRequests();
    expect(turn?.body.model).toBe("claude-haiku-4-5");
    expect(lastUserText(turn!.body)).toContain("Say hello.");
    const job = await world.job(response.headers.get("x-job-id")!);
    expect(job).toMatchObject({ status: "succeeded", caller: TESTER, agent: "assistant" });
    expect(job.clientId).toMatch(/^msg-[0-9a-f-]{36}$/);
    expect(job.clientId!.replaceAll("-", "").replace(/^msg/, "msg_")).toBe(message.id);
  });

  it("system and earlier turns reach the CLI inside one user turn; the agent keeps its own system prompt", async () => {
    world.stub.setDefault(text("Your name is Ada."));
    const message = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      system: [{ type: "text", text: "Answer in one short sentence." }],
      messages: [
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: [{ type: "text", text: "Nice to meet you, Ada." }] },
        { role: "user", content: "What is my name?" },
      ],
    });
    expect(message.content).toEqual([{ type: "text", text: "Your name is Ada.", citations: null }]);
    const [turn] = world.stub.turnRequests();
    const sent = messagesText(turn!.body);
    expect(sent).toContain("<instructions>\nAnswer in one short sentence.\n</instructions>");
    expect(sent).toContain(
      "<conversation>\n<user>\nMy name is Ada.\n</user>\n\n<assistant>\nNice to meet you, Ada.\n</assistant>\n</conversation>",
    );
    expect(sent).toContain("<request>\nWhat is my name?\n</request>");
    expect(turn?.body.messages?.filter((m) => m.role === "assistant")).toEqual([]);
    expect(systemText(turn!.body)).toMatch(/helpful, knowledgeable assistant/);
    expect(systemText(turn!.body)).not.toContain("Answer in one short sentence.");
  });

  it("an image reaches the model as an image block, its place in the text marked", async () => {
    world.stub.setDefault(text("A single pixel."));
    const message = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "text", text: "What is in this image?" },
          ],
        },
      ],
    });
    expect(message.content[0]).toMatchObject({ text: "A single pixel." });
    const [turn] = world.stub.turnRequests();
    const images = imageBlocksOf(turn!.body);
    expect(images).toHaveLength(1);
    expect(images[0]?.source).toMatchObject({ type: "base64", media_type: "image/png", data: PNG });
    expect(lastUserText(turn!.body)).toContain("[image 1]\nWhat is in this image?");
  });

  it("structured output: the schema reaches the CLI; the answer is its object as JSON", async () => {
    // By what the request is, not by order: a loaded machine's CLI may repeat a request.
    world.stub.setHandler((req) =>
      afterToolResult(req.body) ? text("Done.") : structuredOutput({ city: "Sofia", population: 1_200_000 }),
    );
    const schema = {
      type: "object",
      properties: { city: { type: "string" }, population: { type: "integer" } },
      required: ["city", "population"],
      additionalProperties: false,
    };
    const message = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages: user("Which city is Bulgaria's capital, and how many live there?"),
      output_config: { format: { type: "json_schema", schema } },
    });
    const block = message.content[0];
    expect(block?.type).toBe("text");
    expect(JSON.parse((block as Anthropic.TextBlock).text)).toEqual({ city: "Sofia", population: 1_200_000 });
    const [turn] = world.stub.turnRequests();
    expect(offeredToolNames(turn!.body)).toContain(STRUCTURED_OUTPUT_TOOL);
    expect(JSON.stringify(turn!.body.tools)).toContain('"population"');
  });

  it("a stop sequence cuts the answer: stop_reason stop_sequence, and which one", async () => {
    world.stub.setDefault(text("one, two, three, four"));
    const message = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages: user("Count."),
      stop_sequences: ["nine", ", three"],
    });
    expect(message.content[0]).toMatchObject({ text: "one, two" });
    expect(message).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: ", three" });
  });

  it("x-api-key is a credential too (the SDK sends a bearer token)", async () => {
    world.stub.setDefault(text("ok"));
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: {
        "x-api-key": TEST_TOKEN,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: user("Hi") }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Anthropic.Message).content[0]).toMatchObject({ text: "ok" });
  });
});

describe("streaming", () => {
  it("messages.stream(): text as the agent writes it, and a final message the SDK assembled", async () => {
    const said = "Streaming works in small pieces, one delta at a time.";
    // The stub sends two deltas, then holds the rest until this client has seen text.
    const gate = streamGate();
    world.stub.setDefault(text(said, { chunkSize: 6, pauseAfterDeltas: { count: 2, until: gate.until } }));
    const stream = client.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 1024,
      messages: user("Stream something."),
    });
    const deltas: string[] = [];
    stream.on("text", (delta) => {
      deltas.push(delta);
      gate.open();
    });
    const message = await stream.finalMessage();
    expect(deltas.join("")).toBe(said);
    // Live, not a finished answer cut up: text reached the client while the stub was still
    // holding the rest of the answer.
    expect(deltas.length).toBeGreaterThanOrEqual(5);
    expect(gate.openedBy()).toBe("test");
    expect(message).toMatchObject({
      role: "assistant",
      model: "claude-sonnet-4-6",
      content: [{ type: "text", text: said }],
      stop_reason: "end_turn",
      stop_sequence: null,
    });
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
    expect(await stream.finalText()).toBe(said);
  });

  it("stream: true: the raw events in Anthropic's order", async () => {
    world.stub.setDefault(text("Short answer."));
    const stream = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1024,
      messages: user("Hi"),
      stream: true,
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("message_start");
    expect(types[1]).toBe("content_block_start");
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(new Set(types.slice(2, -3))).toEqual(new Set(["content_block_delta"]));
    const said = events.flatMap((e) =>
      e.type === "content_block_delta" && e.delta.type === "text_delta" ? [e.delta.text] : [],
    );
    expect(said.join("")).toBe("Short answer.");
  });

  it("one message across the agent's API messages: text after a tool call continues the block", async () => {
    world.stub.setHandler((req) =>
      afterToolResult(req.body)
        ? text("It said hi.")
        : toolUse("Bash", { command: "echo hi", description: "say hi" }, { preamble: "Let me check." }),
    );
    const stream = client.messages.stream(
      { model: "claude-haiku-4-5", max_tokens: 1024, messages: user("Run echo hi.") },
      { headers: { "X-Claude-Agent": "general" } },
    );
    const blocks: number[] = [];
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_start") blocks.push(event.index);
    });
    const message = await stream.finalMessage();
    expect(blocks).toEqual([0]);
    expect(message.content).toEqual([
      { type: "text", text: "Let me check.\n\nIt said hi.", citations: null },
    ]);
    expect(world.stub.turnRequests().length).toBeGreaterThanOrEqual(2);
    // Not streamed, the answer is the agent's final message.
    const whole = await client.messages.create(
      { model: "claude-haiku-4-5", max_tokens: 1024, messages: user("Run echo hi.") },
      { headers: { "X-Claude-Agent": "general" } },
    );
    expect(whole.content).toEqual([{ type: "text", text: "It said hi.", citations: null }]);
  });

  it("a stop sequence in a stream: cut, and named in the final message", async () => {
    world.stub.setDefault(text("one, two, three, four", { chunkSize: 3 }));
    const message = await client.messages
      .stream({
        model: "claude-haiku-4-5",
        max_tokens: 1024,
        messages: user("Count."),
        stop_sequences: [", three"],
      })
      .finalMessage();
    expect(message.content[0]).toMatchObject({ text: "one, two" });
    expect(message).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: ", three" });
  });
});

describe("errors, as the SDK's own classes", () => {
  it("a wrong key: AuthenticationError; nothing runs", async () => {
    const err = await failure(
      anthropic("not-the-token-0000").messages.create({
        model: "claude-haiku-4-5",
        max_tokens: 16,
        messages: user("Hi"),
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.type).toBe("authentication_error");
    expect(world.stub.requests).toEqual([]);
  });

  it("what the gateway cannot honour: BadRequestError naming the field", async () => {
    const err = await failure(
      client.messages.create({
        model: "claude-haiku-4-5",
        max_tokens: 16,
        messages: user("Hi"),
        tools: [{ name: "get_weather", input_schema: { type: "object" } }],
        tool_choice: { type: "any" },
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.type).toBe("invalid_request_error");
    expect(err.apiMessage).toMatch(/^tool_choice: 'any' is not supported/);
    const url = await failure(
      client.messages.create({
        model: "claude-haiku-4-5",
        max_tokens: 16,
        messages: [
          {
            role: "user",
            content: [{ type: "image", source: { type: "url", url: "https://example.com/a.png" } }],
          },
        ],
      }),
    );
    expect(url).toBeInstanceOf(Anthropic.BadRequestError);
    // No host is allowlisted (IMAGE_FETCH_ALLOWLIST): the gateway fetches nothing.
    expect(url.apiMessage).toMatch(
      /^messages\.0\.content\.0\.source: Image URLs are fetched only from allowed hosts/,
    );
    expect(world.stub.requests).toEqual([]);
  });

  it("an unknown model: NotFoundError whose message lists the supported ids", async () => {
    const err = await failure(
      client.messages.create({ model: "claude-nonexistent-1", max_tokens: 16, messages: user("Hi") }),
    );
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.type).toBe("not_found_error");
    expect(err.apiMessage).toContain("claude-nonexistent-1");
    for (const id of ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"])
      expect(err.apiMessage).toContain(id);
    expect(world.stub.requests).toEqual([]);
  });

  it("a model the caller's policy does not list: PermissionDeniedError", async () => {
    const err = await failure(
      anthropic(TOKENS.bob).messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 16,
        messages: user("Hi"),
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.type).toBe("permission_error");
    expect(err.apiMessage).toContain("claude-haiku-4-5");
    expect(world.stub.requests).toEqual([]);
  });

  it("over the caller's requests per minute: RateLimitError with Retry-After; nothing runs", async () => {
    world.stub.setDefault(text("ok"));
    const carol = anthropic(TOKENS.carol);
    // One a minute: the second is refused, or the third if the first two straddle a minute.
    let err: InstanceType<typeof Anthropic.APIError> | undefined;
    let served = 0;
    for (let i = 0; i < 3 && !err; i++) {
      try {
        await carol.messages.create({ model: "claude-haiku-4-5", max_tokens: 16, messages: user("Hi") });
        served++;
      } catch (e) {
        err = e as InstanceType<typeof Anthropic.APIError>;
      }
    }
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(2);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err?.type).toBe("rate_limit_error");
    expect(Number(err?.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(world.stub.turnRequests()).toHaveLength(served);
  });

  it("the model's API failing: OverloadedError (529), streaming or not", async () => {
    world.stub.setDefault(apiError(500, "stub exploded"));
    for (const stream of [false, true]) {
      const err = await failure(
        stream
          ? client.messages
              .stream({ model: "claude-haiku-4-5", max_tokens: 16, messages: user("Hi") })
              .finalMessage()
          : client.messages.create({ model: "claude-haiku-4-5", max_tokens: 16, messages: user("Hi") }),
      );
      expect(err).toBeInstanceOf(Anthropic.OverloadedError);
      expect(err.status).toBe(529);
      expect(err.type).toBe("overloaded_error");
      expect(err.apiMessage).toContain("(upstream_error)");
    }
  });

  it("count_tokens: NotImplementedError, not retried", async () => {
    const err = await failure(
      anthropic(TEST_TOKEN).messages.countTokens({ model: "claude-haiku-4-5", messages: user("Hi") }),
    );
    expect(err).toBeInstanceOf(Anthropic.NotImplementedError);
    expect(err.status).toBe(501);
    expect(err.apiMessage).toContain("count_tokens is not available");
  });
});
