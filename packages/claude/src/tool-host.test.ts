import { describe, expect, it } from "vitest";
import {
  CLIENT_TOOL_PREFIX,
  clientToolArgs,
  clientToolNameOf,
  clientToolNameProblem,
  MAX_CLIENT_TOOL_NAME,
  ToolHost,
} from "./tool-host.js";

const WEATHER = {
  name: "get_weather",
  description: "The weather in a city.",
  inputSchema: { type: "object", properties: { city: { type: "string" } } },
};

let seq = 0;
/** A control request line as the CLI prints it, for the in-process server unless said otherwise. */
function mcpLine(message: Record<string, unknown>, server = "client") {
  return {
    type: "control_request",
    request_id: `r${++seq}`,
    request: { subtype: "mcp_message", server_name: server, message: { jsonrpc: "2.0", ...message } },
  };
}
const call = (id: number, toolUseId: string | undefined, name = "get_weather", args = { city: "Sofia" }) =>
  mcpLine({
    id,
    method: "tools/call",
    params: { name, arguments: args, _meta: toolUseId ? { "claudecode/toolUseId": toolUseId } : {} },
  });
/** The mcp_response of a reply line, and the request it answers. */
const mcpOf = (reply: Record<string, unknown> | undefined) => {
  const response = reply?.response as {
    subtype: string;
    request_id: string;
    response: { mcp_response: unknown };
  };
  expect(reply?.type).toBe("control_response");
  expect(response.subtype).toBe("success");
  return { requestId: response.request_id, mcp: response.response.mcp_response as Record<string, unknown> };
};

describe("names", () => {
  it("the model sees mcp__client__<name>; the prefix leaves 51 characters of the API's 64", () => {
    expect(CLIENT_TOOL_PREFIX).toBe("mcp__client__");
    expect(MAX_CLIENT_TOOL_NAME).toBe(51);
    expect(clientToolNameOf("mcp__client__get_weather")).toBe("get_weather");
    expect(clientToolNameOf("Bash")).toBeUndefined();
    expect(clientToolNameOf("mcp__other__get_weather")).toBeUndefined();
  });
  it.each([
    ["get_weather", undefined],
    ["a-b_C9", undefined],
    ["a".repeat(51), undefined],
    ["a".repeat(52), "is longer than 51 characters"],
    ["dotted.name", "may hold only letters, digits, '_' and '-'"],
    ["with space", "may hold only letters, digits, '_' and '-'"],
    ["", "may hold only letters, digits, '_' and '-'"],
  ])("%j: %s", (name, problem) => {
    expect(clientToolNameProblem(name)).toBe(problem);
  });
  it("a host refuses a tool the CLI would rename", () => {
    expect(() => new ToolHost([{ ...WEATHER, name: "a.b" }])).toThrow("tool name 'a.b' may hold only");
  });
});

describe("clientToolArgs", () => {
  it("no built-in tool, only the in-process server, all of its tools allowed", () => {
    const args = clientToolArgs();
    expect(args.slice(0, 3)).toEqual(["--tools", "", "--strict-mcp-config"]);
    expect(JSON.parse(args[args.indexOf("--mcp-config") + 1]!)).toEqual({
      mcpServers: { client: { type: "sdk", name: "client" } },
    });
    expect(args[args.indexOf("--allowedTools") + 1]).toBe("mcp__client");
  });
});

describe("ToolHost", () => {
  it("ignores every other line, and other servers' requests", () => {
    const host = new ToolHost([WEATHER]);
    expect(host.onLine({ type: "assistant", message: {} })).toEqual({ replies: [] });
    expect(
      host.onLine({ type: "control_request", request_id: "x", request: { subtype: "can_use_tool" } }),
    ).toEqual({
      replies: [],
    });
    expect(host.onLine(mcpLine({ id: 0, method: "tools/list" }, "other"))).toEqual({ replies: [] });
  });

  it("the handshake: initialize echoes the protocol version, the notification is acknowledged, tools/list lists the tools", () => {
    const host = new ToolHost([WEATHER, { name: "now", inputSchema: { type: "object" } }]);
    const init = mcpLine({ id: 0, method: "initialize", params: { protocolVersion: "2025-11-25" } });
    const r1 = mcpOf(host.onLine(init).replies[0]);
    expect(r1.requestId).toBe(init.request_id);
    expect(r1.mcp).toEqual({
      jsonrpc: "2.0",
      id: 0,
      result: {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: "client", version: "1" },
      },
    });
    expect(mcpOf(host.onLine(mcpLine({ method: "notifications/initialized" })).replies[0]).mcp).toMatchObject(
      {
        result: {},
      },
    );
    expect(mcpOf(host.onLine(mcpLine({ id: 1, method: "tools/list" })).replies[0]).mcp).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: {
        tools: [
          { name: "get_weather", description: "The weather in a city.", inputSchema: WEATHER.inputSchema },
          { name: "now", inputSchema: { type: "object" } },
        ],
      },
    });
  });

  it("a method it does not serve: a JSON-RPC error, so the CLI is never left waiting", () => {
    const host = new ToolHost([WEATHER]);
    expect(mcpOf(host.onLine(mcpLine({ id: 4, method: "resources/list" })).replies[0]).mcp).toEqual({
      jsonrpc: "2.0",
      id: 4,
      error: { code: -32601, message: "resources/list is not served" },
    });
    expect(mcpOf(host.onLine(mcpLine({ id: 5, method: "ping" })).replies[0]).mcp).toMatchObject({
      result: {},
    });
  });

  it("a call is held until its result is supplied, then answered on the request it came in", () => {
    const host = new ToolHost([WEATHER]);
    const line = call(2, "toolu_1");
    const step = host.onLine(line);
    expect(step).toEqual({
      replies: [],
      held: { toolUseId: "toolu_1", name: "get_weather", arguments: { city: "Sofia" } },
    });
    expect(host.held()).toEqual(["toolu_1"]);
    const [reply, ...rest] = host.supply([{ toolUseId: "toolu_1", content: "sunny" }]);
    expect(rest).toEqual([]);
    expect(mcpOf(reply)).toEqual({
      requestId: line.request_id,
      mcp: { jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "sunny" }] } },
    });
    expect(host.held()).toEqual([]);
  });

  it("parallel calls: results supplied at once answer the held call now and the next when the CLI asks", () => {
    const host = new ToolHost([WEATHER]);
    host.onLine(call(2, "toolu_1"));
    const now = host.supply([
      { toolUseId: "toolu_1", content: "sunny" },
      { toolUseId: "toolu_2", content: "no data", isError: true },
    ]);
    expect(now).toHaveLength(1);
    const second = host.onLine(call(3, "toolu_2", "get_weather", { city: "Plovdiv" }));
    expect(second.held).toBeUndefined();
    expect(mcpOf(second.replies[0]).mcp).toEqual({
      jsonrpc: "2.0",
      id: 3,
      result: { content: [{ type: "text", text: "no data" }], isError: true },
    });
    expect(host.held()).toEqual([]);
  });

  it("a call of an unknown tool, or without a tool_use id, is answered as an error, never held", () => {
    const host = new ToolHost([WEATHER]);
    const unknown = host.onLine(call(2, "toolu_1", "rm_rf"));
    expect(unknown.held).toBeUndefined();
    expect(mcpOf(unknown.replies[0]).mcp).toMatchObject({
      result: { content: [{ type: "text", text: "no tool named 'rm_rf'" }], isError: true },
    });
    const anonymous = host.onLine(call(3, undefined));
    expect(mcpOf(anonymous.replies[0]).mcp).toMatchObject({ result: { isError: true } });
    expect(host.held()).toEqual([]);
  });
});

describe("the calls of a message, reported once", () => {
  const start = { type: "stream_event", event: { type: "message_start" } };
  const stop = { type: "stream_event", event: { type: "message_stop" } };
  const useBlock = (id: string, name: string, input: unknown = { city: "Sofia" }) => ({
    type: "assistant",
    message: { id: "msg_1", content: [{ type: "tool_use", id, name, input }] },
  });
  const host = () => new ToolHost([WEATHER]);

  it("when the message is complete and its first call held: every call of the caller's tools, in order", () => {
    const h = host();
    expect(h.onLine(start)).toEqual({ replies: [] });
    expect(h.onLine(useBlock("t1", "mcp__client__get_weather"))).toEqual({ replies: [] });
    expect(h.onLine(useBlock("t2", "mcp__client__get_weather", { city: "Plovdiv" }))).toEqual({
      replies: [],
    });
    // Held before the message ends (the CLI starts a tool as soon as its block is complete).
    const held = h.onLine(call(1, "t1"));
    expect(held.held?.toolUseId).toBe("t1");
    expect(held.calls).toBeUndefined();
    const done = h.onLine(stop);
    expect(done.calls).toEqual([
      { toolUseId: "t1", name: "get_weather", arguments: { city: "Sofia" } },
      { toolUseId: "t2", name: "get_weather", arguments: { city: "Plovdiv" } },
    ]);
    expect(h.pendingCalls().map((c) => c.toolUseId)).toEqual(["t1", "t2"]);
    // Once only.
    expect(h.onLine(stop).calls).toBeUndefined();
  });

  it("or when the first call is held after the message ended", () => {
    const h = host();
    h.onLine(start);
    h.onLine(useBlock("t1", "mcp__client__get_weather"));
    expect(h.onLine(stop).calls).toBeUndefined();
    expect(h.onLine(call(1, "t1")).calls?.map((c) => c.toolUseId)).toEqual(["t1"]);
  });

  it("leaves out other tools and a sub-agent's messages; a message with no held call is not reported", () => {
    const h = host();
    h.onLine(start);
    h.onLine(useBlock("x1", "mcp__other__thing"));
    h.onLine({ ...useBlock("s1", "mcp__client__get_weather"), parent_tool_use_id: "x1" });
    h.onLine({ type: "stream_event", event: { type: "message_stop" }, parent_tool_use_id: "x1" });
    h.onLine(useBlock("t1", "mcp__client__get_weather", "not an object"));
    // A call of a tool it does not offer is answered with an error, never held: nothing to report.
    expect(h.onLine(call(1, "t9", "nope")).held).toBeUndefined();
    expect(h.onLine(stop).calls).toBeUndefined();
    expect(h.onLine(call(2, "t1")).calls).toEqual([{ toolUseId: "t1", name: "get_weather", arguments: {} }]);
  });

  it("a new message starts afresh", () => {
    const h = host();
    h.onLine(start);
    h.onLine(useBlock("t1", "mcp__client__get_weather"));
    h.onLine(call(1, "t1"));
    h.onLine(stop);
    h.supply([{ toolUseId: "t1", content: "sunny" }]);
    expect(h.pendingCalls()).toEqual([]);
    h.onLine(start);
    h.onLine({
      type: "assistant",
      message: {
        id: "msg_2",
        content: [{ type: "tool_use", id: "t2", name: "mcp__client__get_weather", input: {} }],
      },
    });
    h.onLine(call(2, "t2"));
    expect(h.onLine(stop).calls?.map((c) => c.toolUseId)).toEqual(["t2"]);
  });

  it("without partial messages, another message id is another message", () => {
    const h = host();
    h.onLine(useBlock("t1", "mcp__client__get_weather"));
    h.onLine({ type: "assistant", message: { id: "msg_2", content: [{ type: "text", text: "hm" }] } });
    h.onLine(call(1, "t1"));
    // msg_2 never completed: nothing reported, and t1 is not msg_2's.
    expect(h.pendingCalls()).toEqual([]);
  });
});

describe("results against the pending calls", () => {
  const pendingHost = () => {
    const h = new ToolHost([WEATHER]);
    h.onLine({ type: "stream_event", event: { type: "message_start" } });
    h.onLine({
      type: "assistant",
      message: {
        id: "m",
        content: [
          { type: "tool_use", id: "t1", name: "mcp__client__get_weather", input: {} },
          { type: "tool_use", id: "t2", name: "mcp__client__get_weather", input: {} },
        ],
      },
    });
    h.onLine(call(1, "t1"));
    h.onLine({ type: "stream_event", event: { type: "message_stop" } });
    return h;
  };
  const r = (id: string) => ({ toolUseId: id, content: "x" });

  it("each pending call answered once, and nothing else, is accepted", () => {
    expect(pendingHost().resultsProblem([r("t2"), r("t1")])).toBeUndefined();
  });
  it.each([
    [[r("t1")], "no result for: t2"],
    [[r("t1"), r("t2"), r("t3")], "not a pending call: t3"],
    [[r("t1"), r("t1"), r("t2")], "answered more than once: t1"],
    [[r("zz")], "not a pending call: zz; no result for: t1, t2"],
  ])("%j: %s", (results, problem) => {
    expect(pendingHost().resultsProblem(results)).toBe(problem);
  });
  it("nothing waiting: said so", () => {
    expect(new ToolHost([WEATHER]).resultsProblem([r("t1")])).toBe("no tool call is waiting for a result");
  });
});
