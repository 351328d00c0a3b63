import { offeredToolNames, type StubReply, text } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, describe, expect, it } from "vitest";
import { buildChildEnv, type ClientToolCall, clientToolArgs, ToolHost } from "../src/index.js";
import { killStreamProcess, type StreamProcess, startStreamProcess } from "./support/stream-process.js";

// The tool host driving the real CLI on the stub: the caller's tools offered, calls held, results
// supplied as a client would send them (all at once), the run going on with them.
const world = useClaudeWorld({ workPrefix: "cg-tool-host-" });
let proc: StreamProcess | undefined;
afterEach(async () => {
  await killStreamProcess(proc);
  proc = undefined;
});

const WEATHER = {
  name: "get_weather",
  description: "The weather in a city.",
  inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

/** Feeds every stdout line to the host and writes its replies; collects the held calls. */
function drive(p: StreamProcess, host: ToolHost) {
  const held: ClientToolCall[] = [];
  let next = 0;
  const timer = setInterval(() => {
    for (; next < p.lines.length; next++) {
      const step = host.onLine(p.lines[next]!);
      for (const reply of step.replies) p.send(reply);
      if (step.held) held.push(step.held);
    }
  }, 5);
  return { held, stop: () => clearInterval(timer) };
}

describe("ToolHost with the real CLI", () => {
  it("two parallel calls held, both results supplied at once: the model gets both, the run ends with its answer", async () => {
    const parallel: StubReply = {
      kind: "message",
      blocks: [
        { type: "tool_use", name: "mcp__client__get_weather", input: { city: "Sofia" } },
        { type: "tool_use", name: "mcp__client__get_weather", input: { city: "Plovdiv" } },
      ],
      stopReason: "tool_use",
    };
    world.stub.enqueue(parallel, text("Sofia is sunny; Plovdiv has no data."));
    proc = startStreamProcess(world.cli.bin, [...clientToolArgs(), "--include-partial-messages"], {
      cwd: world.work.dir,
      env: buildChildEnv(world.cli.env, { runId: "tool-host" }),
    });
    const host = new ToolHost([WEATHER]);
    const driver = drive(proc, host);
    proc.user("Weather in Sofia and Plovdiv?");
    // The message is over: every call of it is known from the assistant lines.
    await proc.next(
      (l) => l.type === "stream_event" && (l.event as { type?: string }).type === "message_stop",
    );
    const calls = proc.lines
      .filter((l) => l.type === "assistant")
      .flatMap((l) => (l.message as { content: Array<{ type: string; id?: string }> }).content)
      .filter((b) => b.type === "tool_use")
      .map((b) => b.id!);
    expect(calls).toHaveLength(2);
    expect(driver.held.map((c) => c.toolUseId)).toEqual([calls[0]]);
    expect(driver.held[0]).toMatchObject({ name: "get_weather", arguments: { city: "Sofia" } });

    for (const reply of host.supply([
      { toolUseId: calls[0]!, content: "sunny, 21 C" },
      { toolUseId: calls[1]!, content: "no data", isError: true },
    ]))
      proc.send(reply);
    const result = await proc.next((l) => l.type === "result");
    driver.stop();
    expect(result).toMatchObject({ subtype: "success", result: "Sofia is sunny; Plovdiv has no data." });
    // The second call was answered from the supplied results the moment the CLI asked: never held.
    expect(driver.held).toHaveLength(1);
    expect(host.held()).toEqual([]);
    const [first, second] = world.stub.turnRequests();
    expect(offeredToolNames(first!.body)).toEqual(["mcp__client__get_weather"]);
    const results = second!.body.messages?.at(-1)?.content as Array<Record<string, unknown>>;
    expect(results.map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([
      [calls[0], false],
      [calls[1], true],
    ]);
    expect(JSON.stringify(results)).toContain("sunny, 21 C");
  });
});
