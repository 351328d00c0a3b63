import { MAX_TOOL_RESULT_CHARS, MAX_TOOL_RESULTS } from "@claude-gateway/contracts";
import { describe, expect, it } from "vitest";
import { pathOf } from "../anthropic/request.js";
import { InvalidRequestError } from "../errors.js";
import { clientCallId } from "./call-id.js";
import type { ToolRefusals } from "./definitions.js";
import { continuationOf, type ResultDraft } from "./results.js";

/** Anthropic's spelling: the path starts the message. */
const api: ToolRefusals = {
  param: (path) => pathOf(path),
  error: (path, message, code) => new InvalidRequestError(`${pathOf(path)}: ${message}`, pathOf(path), code),
};

const JOB = "0f8e2c4a-1b3d-4e5f-9a7b-6c5d4e3f2a1b";
const OTHER = "11111111-2222-4333-8444-555555555555";
const draft = (j: number, callId: string, content = `result ${j}`, isError?: boolean): ResultDraft => ({
  callId,
  content,
  isError,
  at: ["messages", 3, "content", j, "tool_use_id"],
  contentAt: ["messages", 3, "content", j, "content"],
});
const LIST = ["messages", 3, "content"];

function refusal(drafts: ResultDraft[]): InvalidRequestError {
  try {
    continuationOf(drafts, LIST, api);
  } catch (err) {
    if (err instanceof InvalidRequestError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("continuationOf", () => {
  it("names the job and gives the results by the API's ids, errors marked", () => {
    expect(
      continuationOf(
        [
          draft(0, clientCallId(JOB, "toolu_01"), "12°C"),
          draft(1, clientCallId(JOB, "toolu_02"), "no such city", true),
          draft(2, clientCallId(JOB, "toolu_03"), "", false),
        ],
        LIST,
        api,
      ),
    ).toEqual({
      jobId: JOB,
      results: [
        { id: "toolu_01", content: "12°C" },
        { id: "toolu_02", content: "no such city", isError: true },
        { id: "toolu_03", content: "" },
      ],
      param: "messages.3.content",
    });
  });

  it("takes as many results as a message may have calls, each as long as a result may be", () => {
    const drafts = [...Array(MAX_TOOL_RESULTS)].map((_, j) =>
      draft(j, clientCallId(JOB, `toolu_${j}`), "x".repeat(MAX_TOOL_RESULT_CHARS)),
    );
    expect(continuationOf(drafts, LIST, api).results).toHaveLength(MAX_TOOL_RESULTS);
  });

  it.each<[string, ResultDraft[], string, string, string]>([
    [
      "an id the gateway did not give",
      [draft(0, clientCallId(JOB, "toolu_01")), draft(1, "toolu_01Xyz")],
      "messages.3.content.1.tool_use_id",
      "invalid_tool_call_id",
      "messages.3.content.1.tool_use_id: 'toolu_01Xyz' is not a tool call this gateway made: results are taken only for its own calls, by the ids it gave them.",
    ],
    [
      "calls of two jobs",
      [draft(0, clientCallId(JOB, "toolu_01")), draft(1, clientCallId(OTHER, "toolu_02"))],
      "messages.3.content.1.tool_use_id",
      "invalid_value",
      `messages.3.content.1.tool_use_id: '${clientCallId(OTHER, "toolu_02")}' and '${clientCallId(JOB, "toolu_01")}' are calls of different responses: the results of one response's calls are sent together, in one request.`,
    ],
    [
      "a result that is too long",
      [draft(0, clientCallId(JOB, "toolu_01"), "x".repeat(MAX_TOOL_RESULT_CHARS + 1))],
      "messages.3.content.0.content",
      "invalid_value",
      "messages.3.content.0.content: the result is 200001 characters; at most 200000 are supported.",
    ],
    [
      "too many results",
      [...Array(MAX_TOOL_RESULTS + 1)].map((_, j) => draft(j, clientCallId(JOB, `toolu_${j}`))),
      "messages.3.content",
      "invalid_value",
      "messages.3.content: 65 tool results are given; at most 64 are supported.",
    ],
  ])("refuses %s", (_name, drafts, param, code, message) => {
    const err = refusal(drafts);
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
  });

  it("needs a result", () => {
    expect(() => continuationOf([], LIST, api)).toThrow(/at least one result/);
  });
});
