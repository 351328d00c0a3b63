import { describe, expect, it } from "vitest";
import { callingClientTools, toolResultsOf } from "./client-tools.js";
import type { RecordedRequest } from "./messages-stub.js";

const request = (body: RecordedRequest["body"], auxiliary = false): RecordedRequest => ({
  method: "POST",
  path: "/v1/messages",
  headers: {},
  body,
  auxiliary,
  receivedAt: 0,
});
const offered = [{ name: "mcp__client__get_weather" }, { name: "mcp__client__local_time" }];
const weather = { name: "get_weather", input: { city: "Sofia" } };
const time = { name: "local_time", input: { city: "Sofia" } };

describe("a stub model calling the caller's tools", () => {
  const handler = callingClientTools([[weather, time], [weather]], (results) =>
    results.map((r) => `${r.content}${r.isError ? " (error)" : ""}`).join(" | "),
  );

  it("calls the offered tools first, under the CLI's prefix, in one message", () => {
    const reply = handler(request({ messages: [{ role: "user", content: "hi" }], tools: offered }));
    expect(reply).toMatchObject({
      kind: "message",
      stopReason: "tool_use",
      blocks: [
        { type: "tool_use", name: "mcp__client__get_weather", input: { city: "Sofia" } },
        { type: "tool_use", name: "mcp__client__local_time", input: { city: "Sofia" } },
      ],
    });
  });

  it("says which tools it was not offered instead of calling them", () => {
    const reply = handler(request({ messages: [{ role: "user", content: "hi" }], tools: [offered[0]!] }));
    expect(reply).toMatchObject({ blocks: [{ type: "text", text: "not offered: local_time" }] });
  });

  it("goes on round by round, then answers from the results it received", () => {
    const afterFirst = {
      tools: offered,
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "x", input: {} }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t1", content: "sunny" },
            {
              type: "tool_result",
              tool_use_id: "t2",
              content: [{ type: "text", text: "14:05" }],
              is_error: true,
            },
          ],
        },
      ],
    };
    expect(handler(request(afterFirst))).toMatchObject({ blocks: [{ name: "mcp__client__get_weather" }] });
    expect(toolResultsOf(afterFirst)).toEqual([
      { toolUseId: "t1", content: "sunny", isError: false },
      { toolUseId: "t2", content: "14:05", isError: true },
    ]);
    const afterSecond = {
      ...afterFirst,
      messages: [
        ...afterFirst.messages,
        { role: "assistant", content: [{ type: "tool_use", id: "t3", name: "x", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t3", content: "rain" }] },
      ],
    };
    expect(handler(request(afterSecond))).toMatchObject({ blocks: [{ type: "text", text: "rain" }] });
  });

  it("leaves the CLI's side requests to the queue", () => {
    expect(handler(request({ messages: [{ role: "user", content: "title" }] }, true))).toBeUndefined();
  });
});
