import { offeredToolNames, type StubReply, text, toolUse } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, describe, expect, it } from "vitest";
import { buildChildEnv } from "../src/index.js";
import { killStreamProcess, type StreamProcess, startStreamProcess } from "./support/stream-process.js";

// Client tool calling (issue 19) rests on these facts of the pinned CLI: a caller's tools can be
// offered to the model through an MCP server that lives in the process driving the CLI (`type:
// "sdk"` in --mcp-config; the CLI speaks MCP to it in `mcp_message` control requests on stdout and
// takes the answers on stdin), and a tool call can be held open until its result is known.
// Resuming a session with a tool result, the other design, does not work (last test).

const world = useClaudeWorld({ workPrefix: "cg-facts-tools-" });
let proc: StreamProcess | undefined;
afterEach(async () => {
  await killStreamProcess(proc);
  proc = undefined;
});

type Json = Record<string, unknown>;
interface McpMessage {
  jsonrpc: "2.0";
  id?: number;
  method: string;
  params?: Json & { name?: string; arguments?: Json; _meta?: Json; protocolVersion?: string };
}
interface McpRequestLine {
  type: "control_request";
  request_id: string;
  request: { subtype: string; server_name?: string; message?: McpMessage };
}

const SERVER = "client";
const WEATHER = {
  name: "get_weather",
  description: "The weather in a city.",
  inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const OFFERED = `mcp__${SERVER}__get_weather`;

const asMcp = (line: Json): McpRequestLine | undefined =>
  line.type === "control_request" && (line as unknown as McpRequestLine).request.subtype === "mcp_message"
    ? (line as unknown as McpRequestLine)
    : undefined;
const isToolCall = (line: Json) => asMcp(line)?.request.message?.method === "tools/call";

function answer(p: StreamProcess, line: McpRequestLine, result: unknown): void {
  p.send({
    type: "control_response",
    response: {
      subtype: "success",
      request_id: line.request_id,
      response: { mcp_response: { jsonrpc: "2.0", id: line.request.message?.id, result } },
    },
  });
}

/**
 * The in-process MCP server: answers initialize and tools/list with `tools`, and each tools/call
 * with `onCall`'s result, or holds it (undefined) for the test to answer.
 */
function serveTools(
  p: StreamProcess,
  tools: readonly Json[],
  onCall: (args: Json) => unknown | undefined = () => undefined,
) {
  const seen: McpMessage[] = [];
  let next = 0;
  const timer = setInterval(() => {
    for (; next < p.lines.length; next++) {
      const line = asMcp(p.lines[next]!);
      const msg = line?.request.message;
      if (!line || !msg) continue;
      seen.push(msg);
      if (msg.method === "initialize") {
        answer(p, line, {
          protocolVersion: msg.params?.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: SERVER, version: "1" },
        });
      } else if (msg.method === "tools/list") {
        answer(p, line, { tools });
      } else if (msg.method === "tools/call") {
        const result = onCall(msg.params?.arguments ?? {});
        if (result !== undefined) answer(p, line, result);
      } else {
        answer(p, line, {});
      }
    }
  }, 5);
  return { seen, stop: () => clearInterval(timer) };
}

const start = (extra: readonly string[] = []) => {
  proc = startStreamProcess(
    world.cli.bin,
    [
      "--tools",
      "",
      "--strict-mcp-config",
      "--mcp-config",
      JSON.stringify({ mcpServers: { [SERVER]: { type: "sdk", name: SERVER } } }),
      "--allowedTools",
      `mcp__${SERVER}`,
      "--model",
      "claude-sonnet-4-6",
      ...extra,
    ],
    { cwd: world.work.dir, env: buildChildEnv(world.cli.env, { runId: "facts" }) },
  );
  return proc;
};

const twoCalls: StubReply = {
  kind: "message",
  blocks: [
    { type: "tool_use", name: OFFERED, input: { city: "Sofia" } },
    { type: "tool_use", name: OFFERED, input: { city: "Plovdiv" } },
  ],
  stopReason: "tool_use",
};

describe("a caller's tools through an in-process MCP server (--mcp-config type sdk)", () => {
  it("with --tools '' the model is offered only them, as mcp__<server>__<name> with their schema; a call carries the API's tool_use id; its result reaches the model", async () => {
    world.stub.enqueue(toolUse(OFFERED, { city: "Sofia" }), text("It is sunny in Sofia."));
    const p = start();
    const server = serveTools(p, [WEATHER], () => ({ content: [{ type: "text", text: "sunny, 21 C" }] }));
    const result = await p.turn("Weather in Sofia?");
    server.stop();
    expect(result).toMatchObject({ subtype: "success", result: "It is sunny in Sofia." });
    // MCP's handshake, then the one call.
    expect(server.seen.map((m) => m.method)).toEqual([
      "initialize",
      "notifications/initialized",
      "tools/list",
      "tools/call",
    ]);
    const [first, second] = world.stub.turnRequests();
    expect(offeredToolNames(first!.body)).toEqual([OFFERED]);
    expect(first!.body.tools?.[0]).toMatchObject({
      description: WEATHER.description,
      input_schema: WEATHER.inputSchema,
    });
    const call = server.seen.at(-1)!;
    expect(call.params).toMatchObject({ name: "get_weather", arguments: { city: "Sofia" } });
    const toolUseId = call.params?._meta?.["claudecode/toolUseId"];
    const messages = second!.body.messages ?? [];
    expect(messages.at(-2)?.content).toEqual([
      { type: "tool_use", id: toolUseId, name: OFFERED, input: { city: "Sofia" } },
    ]);
    expect(messages.at(-1)?.content).toEqual([
      expect.objectContaining({
        type: "tool_result",
        tool_use_id: toolUseId,
        // The CLI may add its own reminder blocks after the tool's text.
        content: expect.arrayContaining([
          expect.objectContaining({ type: "text", text: expect.stringContaining("sunny, 21 C") }),
        ]),
      }),
    ]);
  });

  it("parallel calls: while the first is held the whole message (both tool_use blocks, stop_reason tool_use) is out; the second is asked only after the first is answered; both results return in one user message, isError as is_error", async () => {
    world.stub.enqueue({ ...twoCalls, chunkSize: 4 }, text("Sofia is sunny; no data for Plovdiv."));
    const p = start(["--include-partial-messages"]);
    const server = serveTools(p, [WEATHER]);
    p.user("Weather in Sofia and Plovdiv?");
    const firstCall = asMcp(await p.next(isToolCall))!;
    const messageEnd = await p.next(
      (l) => l.type === "stream_event" && (l.event as { type?: string }).type === "message_stop",
    );
    // Held: the message has ended, both calls are known, and only one was asked.
    const toolUses = p.lines
      .filter((l) => l.type === "assistant")
      .flatMap((l) => (l.message as { content: Json[] }).content)
      .filter((b) => b.type === "tool_use");
    expect(toolUses.map((b) => b.input)).toEqual([{ city: "Sofia" }, { city: "Plovdiv" }]);
    expect(p.lines.indexOf(messageEnd)).toBeGreaterThan(p.lines.indexOf(firstCall as unknown as Json));
    expect(p.lines.filter(isToolCall)).toHaveLength(1);
    expect(firstCall.request.message?.params?._meta?.["claudecode/toolUseId"]).toBe(toolUses[0]!.id);

    answer(p, firstCall, { content: [{ type: "text", text: "sunny" }] });
    const secondCall = asMcp(await p.next(isToolCall, p.lines.indexOf(firstCall as unknown as Json) + 1))!;
    expect(secondCall.request.message?.params?._meta?.["claudecode/toolUseId"]).toBe(toolUses[1]!.id);
    answer(p, secondCall, { content: [{ type: "text", text: "no data" }], isError: true });
    const result = await p.next((l) => l.type === "result");
    server.stop();
    expect(result).toMatchObject({ subtype: "success" });

    const turns = world.stub.turnRequests();
    expect(turns).toHaveLength(2);
    const results = turns[1]!.body.messages?.at(-1)?.content as Json[];
    expect(results.map((b) => [b.type, b.tool_use_id, b.is_error ?? false])).toEqual([
      ["tool_result", toolUses[0]!.id, false],
      ["tool_result", toolUses[1]!.id, true],
    ]);
  });

  it("names: the CLI neither bounds nor refuses them: a long name goes out whole (past the API's 64), characters outside [A-Za-z0-9_-] become _", async () => {
    const long = "a".repeat(60);
    const p = start();
    const server = serveTools(p, [
      { ...WEATHER, name: long },
      { ...WEATHER, name: "dotted.name" },
    ]);
    await p.turn("hi");
    server.stop();
    expect(offeredToolNames(world.stub.turnRequests()[0]!.body)).toEqual([
      `mcp__${SERVER}__${long}`,
      `mcp__${SERVER}__dotted_name`,
    ]);
  });
});

describe("end and resume instead", () => {
  it("a process killed while a call is held, resumed with a tool_result for that call: the API sees neither the call nor its result", async () => {
    world.stub.enqueue(toolUse(OFFERED, { city: "Sofia" }));
    const p = start();
    const server = serveTools(p, [WEATHER]);
    p.user("Weather in Sofia?");
    const call = asMcp(await p.next(isToolCall))!;
    const toolUseId = call.request.message?.params?._meta?.["claudecode/toolUseId"];
    const sessionId = (p.lines.find((l) => l.type === "system") as { session_id: string }).session_id;
    server.stop();
    p.child.kill("SIGKILL");
    await p.close();

    world.stub.enqueue(text("resumed"));
    const q = start(["--resume", sessionId]);
    const server2 = serveTools(q, [WEATHER], () => ({ content: [{ type: "text", text: "not asked" }] }));
    q.send({
      type: "user",
      message: {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: toolUseId, content: "sunny, 21 C" }],
      },
    });
    await q.next((l) => l.type === "result");
    server2.stop();
    const sent = JSON.stringify(world.stub.turnRequests().at(-1)?.body.messages);
    expect(sent).not.toContain(String(toolUseId));
    expect(sent).not.toContain("sunny, 21 C");
  });
});
