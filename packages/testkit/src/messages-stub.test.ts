import { describe, expect, it } from "vitest";
import {
  imageBlocksOf,
  lastUserBlocks,
  type MessagesRequestBody,
  promptTooLong,
  STRUCTURED_OUTPUT_TOOL,
  startMessagesStub,
  streamGate,
  structuredOutput,
  text,
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

describe("pauseAfterDeltas", () => {
  /** Reads a streamed reply; `onDelta` sees each text delta as it arrives. */
  async function read(
    url: string,
    onDelta: (n: number) => void,
  ): Promise<{ deltas: string[]; stopped: boolean }> {
    const res = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const deltas: string[] = [];
    let stopped = false;
    let buffer = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const data = JSON.parse(buffer.slice(0, end).split("data: ")[1] ?? "{}");
        buffer = buffer.slice(end + 2);
        if (data.type === "content_block_delta") {
          deltas.push(data.delta.text);
          onDelta(deltas.length);
        }
        if (data.type === "message_stop") stopped = true;
        end = buffer.indexOf("\n\n");
      }
    }
    return { deltas, stopped };
  }

  it("holds the rest of the answer until the gate opens, then sends it whole", async () => {
    const stub = await startMessagesStub();
    try {
      const gate = streamGate();
      stub.setDefault(
        text("abcdefghij", { chunkSize: 2, pauseAfterDeltas: { count: 2, until: gate.until } }),
      );
      const seenBeforeOpen: number[] = [];
      const { deltas, stopped } = await read(stub.url, (n) => {
        if (gate.openedBy() === undefined) seenBeforeOpen.push(n);
        if (n === 2) gate.open();
      });
      expect(seenBeforeOpen).toEqual([1, 2]);
      expect(deltas.join("")).toBe("abcdefghij");
      expect(stopped).toBe(true);
      expect(gate.openedBy()).toBe("test");
    } finally {
      await stub.close();
    }
  });

  it("a gate nobody opens breaks itself, and says so", async () => {
    const stub = await startMessagesStub();
    try {
      const gate = streamGate(50);
      stub.setDefault(text("abcdef", { chunkSize: 2, pauseAfterDeltas: { count: 1, until: gate.until } }));
      const { deltas } = await read(stub.url, () => {});
      expect(deltas.join("")).toBe("abcdef");
      expect(gate.openedBy()).toBe("deadlock-break");
    } finally {
      await stub.close();
    }
  });
});
