import {
  imageBlocksOf,
  lastUserText,
  offeredToolNames,
  structuredOutput,
  text,
} from "@claude-gateway/testkit";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../src/start.js";
import { createWorld, type World } from "./harness.js";

// Chat completions with images and structured output, through the real stack: the official SDK,
// the gateway, a real executor running the real CLI against the Messages API stub, a real nats-server.

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const GIF_B64 = "R0lGODlhAQABAAAAACw=";
const CITY = {
  type: "object",
  properties: { city: { type: "string" }, population: { type: "integer" } },
  required: ["city", "population"],
  additionalProperties: false,
};

let world: World;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  world = await createWorld();
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
  await world.noCliLeft();
});

describe("images (image_url data URLs)", () => {
  it("reach the model as image blocks, in order, before the text that names them", async () => {
    world.stub.setDefault(text("Two pixels."));
    const completion = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these." },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_B64}` } },
            { type: "image_url", image_url: { url: `data:image/gif;base64,${GIF_B64}`, detail: "low" } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Two pixels.");
    const [turn] = world.stub.turnRequests();
    const images = imageBlocksOf(turn!.body);
    expect(images.map((b) => [b.source.media_type, b.source.data])).toEqual([
      ["image/png", PNG_B64],
      ["image/gif", GIF_B64],
    ]);
    expect(lastUserText(turn!.body)).toContain("Compare these.\n[image 1]\n[image 2]");
  });

  it("a URL of a host not allowed is refused before anything runs (no request forgery)", async () => {
    const err = await client.chat.completions
      .create({
        model: "claude-haiku-4-5",
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: `${world.stub.url}/latest/meta-data` } }],
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("image_url_not_allowed");
    expect(world.stub.requests).toEqual([]);
  });
});

describe("structured output (response_format)", () => {
  it("json_schema: the CLI offers the StructuredOutput tool and the answer is its object, streamed or not", async () => {
    world.stub.setDefault(
      structuredOutput({ city: "Sofia", population: 1_200_000 }, { preamble: "Let me see." }),
    );
    const response_format = {
      type: "json_schema" as const,
      json_schema: { name: "city", schema: CITY, strict: true },
    };
    const completion = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "Bulgaria's capital?" }],
      response_format,
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({
      city: "Sofia",
      population: 1_200_000,
    });
    expect(offeredToolNames(world.stub.turnRequests()[0]!.body)).toContain("StructuredOutput");

    const stream = await client.chat.completions.create({
      model: "claude-haiku-4-5",
      messages: [{ role: "user", content: "Again?" }],
      response_format,
      stream: true,
    });
    const deltas: string[] = [];
    for await (const chunk of stream) {
      const content = chunk.choices[0]?.delta.content;
      if (content) deltas.push(content);
    }
    // The agent's prose ("Let me see.") is not the answer: only the object streams.
    expect(deltas).toEqual(['{"city":"Sofia","population":1200000}']);
  });

  it("an answer in prose is an error, never passed off as JSON", async () => {
    world.stub.setDefault(text("Sofia, about 1.2 million people."));
    const err = await client.chat.completions
      .create({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: "Bulgaria's capital?" }],
        response_format: { type: "json_schema", json_schema: { name: "city", schema: CITY } },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toMatch(/structured_output/);
  });

  it("an invalid schema is a 400 naming it, before any run", async () => {
    const err = await client.chat.completions
      .create({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: "x" }],
        response_format: {
          type: "json_schema",
          json_schema: { name: "bad", schema: { type: "object", required: "city" } },
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      "response_format.json_schema.schema",
    );
    expect(world.stub.requests).toEqual([]);
  });
});
