import type { Responses } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import { USAGE } from "../../test-support/fake-executor.js";
import { failedJob, jobRecord } from "../../test-support/records.js";
import { InvalidRequestError, JobFailedError, QueueFullError } from "../errors.js";
import { StructuredOutputInvalidError } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";
import {
  completedResponse,
  failedResponse,
  type OutputMessage,
  outputMessage,
  pausedResponse,
  type ResponseObject,
  type ResponseShape,
  responseErrorOf,
  responseUsage,
  storedResponse,
} from "./response.js";

const UUID = "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d";
const CREATED = 1_767_323_045;
const shape: ResponseShape = {
  uuid: UUID,
  createdAt: CREATED,
  model: "claude-haiku-4-5",
  echo: {
    instructions: "Be brief.",
    previousResponseId: null,
    format: { type: "text" },
    metadata: { trace: "t1" },
    parallelToolCalls: true,
    toolChoice: "auto",
    tools: [],
  },
};

/** Compile-time: ours is the SDK's `Response`. */
const asSdk = (r: ResponseObject): Responses.Response => r;
type Extra = Exclude<keyof ResponseObject, keyof Responses.Response>;
const noExtraKeys: [Extra] extends [never] ? true : false = true;

/** `USAGE` in the Responses API's terms. */
const RESPONSE_USAGE = {
  input_tokens: 130,
  input_tokens_details: { cached_tokens: 100 },
  output_tokens: 5,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 135,
};

describe("completedResponse", () => {
  it("is the SDK's Response: one completed assistant message, usage, and the request's echo", () => {
    const job = jobRecord({ finishedAt: new Date((CREATED + 3) * 1000).toISOString() });
    const r = completedResponse(shape, job, undefined);
    expect(noExtraKeys).toBe(true);
    expect(asSdk(r)).toBeTruthy();
    expect(r).toEqual({
      id: `resp_${UUID}`,
      object: "response",
      created_at: CREATED,
      status: "completed",
      background: false,
      completed_at: CREATED + 3,
      error: null,
      incomplete_details: null,
      instructions: "Be brief.",
      max_output_tokens: null,
      metadata: { trace: "t1" },
      model: "claude-haiku-4-5",
      output_text: "Hello there.",
      output: [
        {
          id: "msg_0b1c2d3e4f504a1b8c2d3e4f5a6b7c8d",
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello there.", annotations: [] }],
        },
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      service_tier: "default",
      temperature: null,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
      top_p: null,
      truncation: "disabled",
      usage: RESPONSE_USAGE,
    });
  });

  it("a model cut off at its token limit is an incomplete response", () => {
    const job = jobRecord({
      result: { text: "Half", sessionId: "s", numTurns: 1, permissionDenials: 0, stopReason: "max_tokens" },
    });
    expect(completedResponse(shape, job, undefined)).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ status: "incomplete", content: [{ text: "Half" }] }],
    });
  });

  it("with a schema the answer is the structured output as JSON, never the prose", () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const job = jobRecord({
      result: {
        text: "Sofia!",
        sessionId: "s",
        numTurns: 1,
        permissionDenials: 0,
        structuredOutput: { city: "Sofia" },
      },
    });
    expect((completedResponse(shape, job, schema).output[0] as OutputMessage).content[0]?.text).toBe(
      '{"city":"Sofia"}',
    );
    const without = jobRecord();
    expect(() => completedResponse(shape, without, schema)).toThrow(StructuredOutputInvalidError);
  });

  it("a job that did not succeed throws the client's error", () => {
    expect(() => completedResponse(shape, failedJob("failed", "upstream_error"), undefined)).toThrow(
      JobFailedError,
    );
  });
});

describe("responseUsage", () => {
  it("counts cache reads and writes as input, cache reads as cached", () => {
    expect(responseUsage(USAGE)).toEqual(RESPONSE_USAGE);
    expect(responseUsage(undefined)).toMatchObject({ input_tokens: 0, output_tokens: 0, total_tokens: 0 });
  });
});

describe("failedResponse", () => {
  it("carries what was said so far and an error in OpenAI's codes; the job's reason stays in the message", () => {
    const err = new JobFailedError("j", "upstream_error", "The request failed (upstream_error): boom");
    const r = failedResponse(shape, err, outputMessage(UUID, "Hel", "incomplete"));
    expect(asSdk(r)).toBeTruthy();
    expect(r).toMatchObject({
      status: "failed",
      error: { code: "server_error", message: "The request failed (upstream_error): boom" },
      output: [{ status: "incomplete", content: [{ text: "Hel" }] }],
      completed_at: null,
    });
    expect(r.usage).toBeUndefined();
  });

  it.each([
    [new QueueFullError("full", 5), "rate_limit_exceeded"],
    [new InvalidRequestError("bad"), "invalid_prompt"],
    [new StructuredOutputInvalidError("j", "no"), "server_error"],
  ])("maps %s to %s", (err, code) => {
    expect(responseErrorOf(err).code).toBe(code);
  });
});

describe("storedResponse", () => {
  const stored = (patch: Parameters<typeof jobRecord>[0] = {}) =>
    jobRecord({
      clientId: `resp-${UUID}`,
      queuedAt: new Date(CREATED * 1000).toISOString(),
      finishedAt: new Date((CREATED + 2) * 1000).toISOString(),
      submission: { id: `resp-${UUID}`, agent: "general", prompt: "Hi", session: { kind: "new" } },
      ...patch,
    });

  it("a finished job is its completed response, with what the job does not keep as null", () => {
    const r = storedResponse(stored());
    expect(asSdk(r)).toBeTruthy();
    expect(r).toMatchObject({
      id: `resp_${UUID}`,
      created_at: CREATED,
      completed_at: CREATED + 2,
      status: "completed",
      model: "claude-haiku-4-5",
      instructions: null,
      metadata: null,
      previous_response_id: null,
      text: { format: { type: "text" } },
      output: [{ id: "msg_0b1c2d3e4f504a1b8c2d3e4f5a6b7c8d", content: [{ text: "Hello there." }] }],
      usage: RESPONSE_USAGE,
    });
  });

  it.each<[string, Parameters<typeof jobRecord>[0], Record<string, unknown>]>([
    ["queued", { status: "queued", result: undefined, usage: undefined }, { status: "queued", output: [] }],
    [
      "running",
      { status: "running", result: undefined, usage: undefined },
      { status: "in_progress", output: [] },
    ],
    [
      "cancelled",
      { status: "cancelled", result: undefined },
      { status: "cancelled", output: [], usage: RESPONSE_USAGE },
    ],
    [
      "failed",
      { status: "failed", result: undefined, error: { reason: "upstream_error", message: "boom" } },
      {
        status: "failed",
        error: { code: "server_error", message: "The request failed (upstream_error): boom" },
      },
    ],
    [
      "timed out",
      { status: "timed_out", result: undefined, error: { reason: "timeout", message: "slow" } },
      { status: "failed", error: { code: "server_error" } },
    ],
  ])("a %s job", (_, patch, expected) => {
    expect(storedResponse(stored(patch))).toMatchObject(expected);
  });

  it("a schema's format: json_object for the loosest schema, else json_schema named `response`", () => {
    const sub = (jsonSchema: Record<string, unknown>) => ({
      submission: {
        id: `resp-${UUID}`,
        agent: "general",
        prompt: "Hi",
        session: { kind: "new" as const },
        jsonSchema,
      },
      result: { text: "{}", sessionId: "s", numTurns: 1, permissionDenials: 0, structuredOutput: { a: 1 } },
    });
    expect(storedResponse(stored(sub({ type: "object" }))).text.format).toEqual({ type: "json_object" });
    const schema = { type: "object", properties: { a: { type: "integer" } } };
    const r = storedResponse(stored(sub(schema)));
    expect(r.text.format).toEqual({ type: "json_schema", name: "response", schema });
    expect((r.output[0] as OutputMessage).content[0]?.text).toBe('{"a":1}');
    // An answer the schema refuses is a failed response, not its prose.
    const bad = storedResponse(stored({ ...sub({ ...schema, required: ["b"] }) }));
    expect(bad).toMatchObject({ status: "failed", error: { code: "server_error" } });
  });
});

describe("pausedResponse", () => {
  const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const weather = {
    type: "function" as const,
    name: "get_weather",
    description: null,
    parameters: { type: "object" },
    strict: false,
  };
  const withTools: ResponseShape = { ...shape, echo: { ...shape.echo, tools: [weather] } };
  const at = new Date((CREATED + 4) * 1000).toISOString();

  it("is completed: the message's text, then a function_call item per call with the gateway's ids", () => {
    const r = pausedResponse(withTools, JOB, { calls, text: "Let me check.", at });
    expect(asSdk(r)).toBeTruthy();
    expect(r).toMatchObject({
      id: `resp_${UUID}`,
      status: "completed",
      completed_at: CREATED + 4,
      error: null,
      incomplete_details: null,
      output_text: "Let me check.",
      tool_choice: "auto",
      tools: [weather],
      // The job goes on: its spend is reported when it ends.
      usage: {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      },
    });
    expect(r.output).toEqual([
      outputMessage(UUID, "Let me check."),
      {
        id: "fc_toolu_01",
        type: "function_call",
        call_id: clientCallId(JOB, "toolu_01"),
        name: "get_weather",
        arguments: '{"city":"Sofia"}',
        status: "completed",
      },
      {
        id: "fc_toolu_02",
        type: "function_call",
        call_id: clientCallId(JOB, "toolu_02"),
        name: "get_time",
        arguments: "{}",
        status: "completed",
      },
    ]);
  });

  it("has no message when the model said nothing before the calls", () => {
    const r = pausedResponse(withTools, JOB, { calls, text: "", at });
    expect(r.output.map((item) => item.type)).toEqual(["function_call", "function_call"]);
    expect(r.output_text).toBe("");
  });

  it("is what a stored job paused on calls reads back as, its tools echoed", () => {
    const job = jobRecord({
      id: JOB,
      status: "running",
      clientId: `resp-${UUID}`,
      queuedAt: new Date(CREATED * 1000).toISOString(),
      submission: {
        id: `resp-${UUID}`,
        agent: "general",
        prompt: "Hi",
        session: { kind: "new" },
        tools: [{ name: "get_weather", inputSchema: { type: "object" } }],
      },
      result: undefined,
      usage: undefined,
      toolCalls: { calls, text: "", seq: 7, at, expiresAt: at },
    });
    const r = storedResponse(job);
    expect(r).toMatchObject({ status: "completed", tools: [weather], tool_choice: "auto" });
    expect(r.output.map((item) => (item.type === "function_call" ? item.call_id : item.id))).toEqual([
      clientCallId(JOB, "toolu_01"),
      clientCallId(JOB, "toolu_02"),
    ]);
    // Running again (the results arrived): in progress.
    expect(storedResponse({ ...job, toolCalls: undefined }).status).toBe("in_progress");
  });
});
