import { describe, expect, it } from "vitest";
import { readSse, SseParser } from "./sse.js";

describe("SseParser", () => {
  it("parses events, ids, multi-line data; skips comments", () => {
    const p = new SseParser();
    expect(
      p.push(
        'event: text\ndata: {"type":"text","delta":"a"}\nid: 3\n\n: keepalive\n\ndata: line1\ndata: line2\n\n',
      ),
    ).toEqual([
      { event: "text", data: '{"type":"text","delta":"a"}', id: "3" },
      { event: "message", data: "line1\nline2", id: "3" },
    ]);
  });

  it("reassembles events split anywhere, CRLF split across chunks included", () => {
    const whole = "event: done\r\ndata: {}\r\nid: 9\r\n\r\n";
    for (let cut = 1; cut < whole.length; cut++) {
      const p = new SseParser();
      const out = [...p.push(whole.slice(0, cut)), ...p.push(whole.slice(cut))];
      expect(out, `cut at ${cut}`).toEqual([{ event: "done", data: "{}", id: "9" }]);
    }
  });

  it("a field without a space after the colon, and one without a colon", () => {
    const p = new SseParser();
    expect(p.push("event:x\ndata:1\ndata\n\n")).toEqual([{ event: "x", data: "1\n" }]);
  });

  it("readSse yields from a byte stream, multi-byte characters split across chunks", async () => {
    const bytes = new TextEncoder().encode('event: text\ndata: {"delta":"é✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const got = [];
    for await (const m of readSse(body)) got.push(m);
    expect(got).toEqual([{ event: "text", data: '{"delta":"é✓"}' }]);
  });
});
