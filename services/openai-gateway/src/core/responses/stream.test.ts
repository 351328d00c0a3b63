import type { JobEvent } from "@claude-gateway/contracts";
import OpenAI from "openai";
import type { Responses } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import { USAGE } from "../../test-support/fake-executor.js";
import { failedJob, jobRecord } from "../../test-support/records.js";
import { JobFailedError } from "../errors.js";
import { StructuredOutputInvalidError } from "../structured.js";
import { clientCallId } from "../tools/call-id.js";
import type { ResponseShape } from "./response.js";
import { createResponseEncoder, type ResponseStreamEvent } from "./stream.js";

const UUID = "0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c8d";
const MSG = "msg_0b1c2d3e4f504a1b8c2d3e4f5a6b7c8d";
const shape: ResponseShape = {
  uuid: UUID,
  createdAt: 1_767_323_045,
  model: "claude-haiku-4-5",
  echo: {
    instructions: null,
    previousResponseId: null,
    format: { type: "text" },
    metadata: {},
    parallelToolCalls: true,
    toolChoice: "auto",
    tools: [],
  },
};
const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";

/** Compile-time: each of ours is one of the SDK's stream events. */
const asSdk = (e: ResponseStreamEvent): Responses.ResponseStreamEvent =>
  "response" in e
    ? ({ ...e, response: { ...e.response, output_text: "" } } as Responses.ResponseStreamEvent)
    : e;

let seq = 0;
const ev = (body: Record<string, unknown>) => ({ jobId: "j", seq: seq++, at: "t", ...body }) as JobEvent;
const text = (delta: string) => ev({ type: "text", delta });
const tool = () => ev({ type: "tool_use", id: "t1", name: "Bash", input: {} });

const types = (events: ResponseStreamEvent[]) => events.map((e) => e.type);
const deltas = (events: ResponseStreamEvent[]) =>
  events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []));

describe("createResponseEncoder", () => {
  it("opens, adds the message with the first text, streams each delta, then closes it and completes", () => {
    const enc = createResponseEncoder(shape, { jobId: JOB });
    const out: ResponseStreamEvent[] = [];
    out.push(...enc.push(ev({ type: "status", status: "running" })));
    expect(enc.hasContent).toBe(false);
    out.push(...enc.push(text("Hello")), ...enc.push(text(" there.")));
    expect(enc.hasContent).toBe(true);
    out.push(...enc.open());
    out.push(
      ...enc.finish(
        jobRecord({ result: { text: "Hello there.", sessionId: "s", numTurns: 1, permissionDenials: 0 } }),
      ),
    );
    expect(types(out)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(out.map((e) => e.sequence_number)).toEqual(out.map((_, i) => i));
    for (const e of out) expect(asSdk(e)).toBeTruthy();
    expect(out[0]).toMatchObject({ response: { id: `resp_${UUID}`, status: "in_progress", output: [] } });
    expect(out[2]).toEqual({
      type: "response.output_item.added",
      sequence_number: 2,
      output_index: 0,
      item: { id: MSG, type: "message", status: "in_progress", role: "assistant", content: [] },
    });
    expect(out[3]).toEqual({
      type: "response.content_part.added",
      sequence_number: 3,
      item_id: MSG,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    expect(out[4]).toEqual({
      type: "response.output_text.delta",
      sequence_number: 4,
      item_id: MSG,
      output_index: 0,
      content_index: 0,
      delta: "Hello",
      logprobs: [],
    });
    expect(out[6]).toMatchObject({ type: "response.output_text.done", text: "Hello there.", logprobs: [] });
    expect(out[7]).toMatchObject({ part: { type: "output_text", text: "Hello there.", annotations: [] } });
    expect(out[8]).toMatchObject({
      item: { id: MSG, status: "completed", content: [{ text: "Hello there." }] },
    });
    expect(out[9]).toMatchObject({
      response: {
        status: "completed",
        output: [{ content: [{ text: "Hello there." }] }],
        usage: { input_tokens: 130, output_tokens: 5, total_tokens: 135 },
      },
    });
  });

  it("sends the part of the answer whose events were lost, once", () => {
    const enc = createResponseEncoder(shape, { jobId: JOB });
    const out = [...enc.push(text("Hel"))];
    out.push(
      ...enc.finish(
        jobRecord({ result: { text: "Hello.", sessionId: "s", numTurns: 1, permissionDenials: 0 } }),
      ),
    );
    expect(deltas(out)).toEqual(["Hel", "lo."]);
  });

  it("a job that ended before any event: the whole answer as one delta", () => {
    const out = createResponseEncoder(shape, { jobId: JOB }).finish(jobRecord());
    expect(types(out).slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(deltas(out)).toEqual(["Hello there."]);
  });

  it("an empty answer still adds and closes the message", () => {
    const enc = createResponseEncoder(shape, { jobId: JOB });
    const out = [
      ...enc.open(),
      ...enc.finish(jobRecord({ result: { text: "", sessionId: "s", numTurns: 1, permissionDenials: 0 } })),
    ];
    expect(types(out)).not.toContain("response.output_text.delta");
    expect(out.at(-1)).toMatchObject({
      type: "response.completed",
      response: { output: [{ content: [{ text: "" }] }] },
    });
  });

  it("text after a tool call starts a new paragraph; the final answer is not sent twice", () => {
    const enc = createResponseEncoder(shape, { jobId: JOB });
    const out = [...enc.push(text("Looking.")), ...enc.push(tool()), ...enc.push(text("Found it."))];
    out.push(
      ...enc.finish(
        jobRecord({ result: { text: "Found it.", sessionId: "s", numTurns: 2, permissionDenials: 0 } }),
      ),
    );
    expect(deltas(out)).toEqual(["Looking.", "\n\nFound it."]);
    expect(out.at(-1)).toMatchObject({
      response: { output: [{ content: [{ text: "Looking.\n\nFound it." }] }] },
    });
  });

  it("a model cut off ends with response.incomplete", () => {
    const out = createResponseEncoder(shape, { jobId: JOB }).finish(
      jobRecord({
        result: { text: "Half", sessionId: "s", numTurns: 1, permissionDenials: 0, stopReason: "max_tokens" },
      }),
    );
    expect(out.at(-1)).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
    expect(out.at(-2)).toMatchObject({ type: "response.output_item.done", item: { status: "incomplete" } });
  });

  it("with a schema: no prose streams; the structured output is the one delta at the end", () => {
    const schema = { type: "object", properties: { city: { type: "string" } } };
    const enc = createResponseEncoder(shape, { jobId: JOB, schema });
    expect(enc.push(text("Let me think."))).toEqual([]);
    expect(enc.hasContent).toBe(false);
    const out = enc.finish(
      jobRecord({
        result: {
          text: "Sofia",
          sessionId: "s",
          numTurns: 1,
          permissionDenials: 0,
          structuredOutput: { city: "Sofia" },
        },
      }),
    );
    expect(deltas(out)).toEqual(['{"city":"Sofia"}']);
    expect(out.at(-1)).toMatchObject({ response: { output: [{ content: [{ text: '{"city":"Sofia"}' }] }] } });
    expect(() => createResponseEncoder(shape, { jobId: JOB, schema }).finish(jobRecord())).toThrow(
      StructuredOutputInvalidError,
    );
  });

  it("finishing a job that did not succeed throws the client's error", () => {
    expect(() =>
      createResponseEncoder(shape, { jobId: JOB }).finish(failedJob("failed", "upstream_error")),
    ).toThrow(JobFailedError);
  });

  it("a failure: response.failed with what was said so far, then an error event the SDK raises", () => {
    const enc = createResponseEncoder(shape, { jobId: JOB });
    const before = [...enc.push(text("Hel"))];
    const out = enc.fail(
      new JobFailedError("j", "upstream_error", "The request failed (upstream_error): boom"),
    );
    expect(types(out)).toEqual(["response.failed", "error"]);
    expect(out[0]?.sequence_number).toBe(before.length);
    for (const e of out) expect(asSdk(e)).toBeTruthy();
    expect(out[0]).toMatchObject({
      response: {
        status: "failed",
        error: { code: "server_error", message: "The request failed (upstream_error): boom" },
        output: [{ status: "incomplete", content: [{ text: "Hel" }] }],
      },
    });
    // Both shapes: the documented top-level fields, and the nested `error` the SDK throws on.
    expect(out[1]).toEqual({
      type: "error",
      sequence_number: before.length + 1,
      code: "upstream_error",
      message: "The request failed (upstream_error): boom",
      param: null,
      error: {
        type: "api_error",
        code: "upstream_error",
        message: "The request failed (upstream_error): boom",
        param: null,
      },
    });
  });

  it("a failure before anything was sent still opens the stream first", () => {
    const out = createResponseEncoder(shape, { jobId: JOB }).fail(new JobFailedError("j", "timeout", "slow"));
    expect(types(out)).toEqual(["response.created", "response.in_progress", "response.failed", "error"]);
    expect(out[2]).toMatchObject({ response: { output: [] } });
  });

  it("usage is the job's", () => {
    const out = createResponseEncoder(shape, { jobId: JOB }).finish(
      jobRecord({ usage: { ...USAGE, outputTokens: 7 } }),
    );
    expect(out.at(-1)).toMatchObject({ response: { usage: { output_tokens: 7, total_tokens: 137 } } });
  });
});

describe("createResponseEncoder when the job pauses on the caller's tools", () => {
  const calls = [
    { id: "toolu_01", name: "get_weather", input: { city: "Sofia" } },
    { id: "toolu_02", name: "get_time", input: {} },
  ];
  const toolCalls = (said: string) =>
    ev({ type: "tool_calls", calls, text: said, expiresAt: "t", at: "2026-01-02T03:04:09.000Z" });
  const weather = {
    type: "function" as const,
    name: "get_weather",
    description: null,
    parameters: { type: "object" },
    strict: false,
  };
  const withTools: ResponseShape = { ...shape, echo: { ...shape.echo, tools: [weather] } };

  it("closes the message, adds each call as a function_call item, then completes", () => {
    const enc = createResponseEncoder(withTools, { jobId: JOB });
    const live = [...enc.push(text("Let me check."))];
    const end = enc.push(toolCalls("Let me check."));
    expect(types([...live, ...end])).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const all = [...live, ...end];
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    for (const e of all) expect(asSdk(e)).toBeTruthy();
    const id = clientCallId(JOB, "toolu_01");
    expect(end.slice(3, 7)).toEqual([
      {
        type: "response.output_item.added",
        sequence_number: 8,
        output_index: 1,
        item: {
          id: "fc_toolu_01",
          type: "function_call",
          call_id: id,
          name: "get_weather",
          arguments: "",
          status: "in_progress",
        },
      },
      {
        type: "response.function_call_arguments.delta",
        sequence_number: 9,
        item_id: "fc_toolu_01",
        output_index: 1,
        delta: '{"city":"Sofia"}',
      },
      {
        type: "response.function_call_arguments.done",
        sequence_number: 10,
        item_id: "fc_toolu_01",
        output_index: 1,
        name: "get_weather",
        arguments: '{"city":"Sofia"}',
      },
      {
        type: "response.output_item.done",
        sequence_number: 11,
        output_index: 1,
        item: {
          id: "fc_toolu_01",
          type: "function_call",
          call_id: id,
          name: "get_weather",
          arguments: '{"city":"Sofia"}',
          status: "completed",
        },
      },
    ]);
    expect(end[2]).toMatchObject({ type: "response.output_item.done", item: { status: "completed" } });
    expect(end[7]).toMatchObject({ output_index: 2, item: { call_id: clientCallId(JOB, "toolu_02") } });
    expect(end.at(-1)).toMatchObject({
      type: "response.completed",
      response: {
        status: "completed",
        tools: [weather],
        output_text: "Let me check.",
        output: [
          { type: "message", content: [{ text: "Let me check." }] },
          { type: "function_call", call_id: id, status: "completed" },
          { type: "function_call", call_id: clientCallId(JOB, "toolu_02") },
        ],
        usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
      },
    });
    expect(enc.hasContent).toBe(true);
  });

  it("calls before any text: no message item, the first call at index 0", () => {
    const enc = createResponseEncoder(withTools, { jobId: JOB });
    const out = [...enc.open(), ...enc.push(toolCalls(""))];
    expect(types(out).slice(0, 3)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
    ]);
    expect(out[2]).toMatchObject({ output_index: 0, item: { type: "function_call" } });
    expect(out.at(-1)).toMatchObject({
      response: { output: [{ type: "function_call" }, { type: "function_call" }] },
    });
    expect(enc.hasContent).toBe(true);
  });

  it("sends the message's text whose events were lost before closing it", () => {
    const enc = createResponseEncoder(withTools, { jobId: JOB });
    const out = [...enc.push(text("Let me")), ...enc.push(toolCalls("Let me check."))];
    expect(deltas(out)).toEqual(["Let me", " check."]);
    expect(out.find((e) => e.type === "response.output_text.done")).toMatchObject({ text: "Let me check." });
  });

  it("is assembled by the openai SDK's stream helper into the calls", async () => {
    const enc = createResponseEncoder(withTools, { jobId: JOB });
    const events = [
      ...enc.push(text("Let me ")),
      ...enc.push(text("check.")),
      ...enc.push(toolCalls("Let me check.")),
    ];
    const body = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
    const client = new OpenAI({
      apiKey: "k",
      baseURL: "http://gateway.test/v1",
      fetch: async () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
    });
    const final = await client.responses
      .stream({
        model: "claude-haiku-4-5",
        input: "Weather and time in Sofia?",
        tools: [{ type: "function", name: "get_weather", parameters: { type: "object" }, strict: false }],
      })
      .finalResponse();
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe("Let me check.");
    expect(final.output.filter((item) => item.type === "function_call")).toEqual([
      expect.objectContaining({
        call_id: clientCallId(JOB, "toolu_01"),
        name: "get_weather",
        arguments: '{"city":"Sofia"}',
      }),
      expect.objectContaining({ call_id: clientCallId(JOB, "toolu_02"), name: "get_time", arguments: "{}" }),
    ]);
  });
});
