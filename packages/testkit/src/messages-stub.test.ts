import { describe, expect, it } from "vitest";
import {
  imageBlocksOf,
  lastUserBlocks,
  type MessagesRequestBody,
  promptTooLong,
  STRUCTURED_OUTPUT_TOOL,
  structuredOutput,
} from "./messages-stub.js";

const image = (data: string) => ({
  type: "image",
  source: { type: "base64", media_type: "image/png", data },
});

describe("request readers", () => {
  const body: MessagesRequestBody = {
    messages: [
      { role: "user", content: [image("OLD"), { type: "text", text: "first" }] },
      { role: "assistant", content: [{ type: "text", text: "ok" }] },
      { role: "user", content: [image("A"), image("B"), { type: "text", text: "second" }] },
      // The pinned CLI puts its own `system` entries among the messages.
      { role: "system", content: [{ type: "text", text: "# Environment" }] },
    ],
  };
  it("imageBlocksOf: the image blocks of the last user message only, in order", () => {
    expect(imageBlocksOf(body).map((b) => b.source.data)).toEqual(["A", "B"]);
    expect(imageBlocksOf({ messages: [{ role: "user", content: "plain" }] })).toEqual([]);
    expect(imageBlocksOf({})).toEqual([]);
  });
  it("lastUserBlocks: a string content is one text block", () => {
    expect(lastUserBlocks(body).at(-1)).toEqual({ type: "text", text: "second" });
    expect(lastUserBlocks({ messages: [{ role: "user", content: "plain" }] })).toEqual([
      { type: "text", text: "plain" },
    ]);
  });
});

describe("reply helpers", () => {
  it("structuredOutput calls the CLI's StructuredOutput tool with the value", () => {
    expect(structuredOutput({ city: "Sofia" })).toEqual({
      kind: "message",
      blocks: [{ type: "tool_use", name: STRUCTURED_OUTPUT_TOOL, input: { city: "Sofia" } }],
      stopReason: "tool_use",
    });
  });
  it("promptTooLong is the API's 400 with its wording", () => {
    expect(promptTooLong(300_000, 200_000)).toMatchObject({
      kind: "error",
      status: 400,
      errorType: "invalid_request_error",
      message: "prompt is too long: 300000 tokens > 200000 maximum",
    });
  });
});
