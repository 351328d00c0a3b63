import { existsSync } from "node:fs";
import { join } from "node:path";
import { messagesText, text, toolUse } from "@claude-gateway/testkit";
import { useClaudeWorld } from "@claude-gateway/testkit/vitest";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildChildEnv, parseLine } from "../src/index.js";
import { killStreamProcess, type StreamProcess, startStreamProcess } from "./support/stream-process.js";

// A long-lived `--input-format stream-json` process: the facts the warm-process and
// permission-prompt work depend on, with the pinned CLI.
const world = useClaudeWorld({ workPrefix: "cg-facts-warm-" });
let proc: StreamProcess | undefined;

beforeEach(() => {
  world.stub.setDefault(text("warm reply"));
});
afterEach(async () => {
  await killStreamProcess(proc);
  proc = undefined;
});

const start = (args: readonly string[]) => {
  proc = startStreamProcess(world.cli.bin, args, {
    cwd: world.work.dir,
    env: buildChildEnv(world.cli.env, { runId: "facts" }),
  });
  return proc;
};
const control = (p: StreamProcess, id: string, request: Record<string, unknown>) => {
  const from = p.lines.length;
  p.send({ type: "control_request", request_id: id, request });
  return p.next(
    (l) => l.type === "control_response" && (l.response as { request_id?: string })?.request_id === id,
    from,
  );
};

describe("one warm process, many turns", () => {
  it("every turn ends in a result of one session, each line parses, and history accumulates", async () => {
    const p = start(["--tools", "", "--model", "claude-sonnet-4-6"]);
    const r1 = await p.turn("my name is Ada");
    const r2 = await p.turn("what is my name?");
    const r3 = await p.turn("and again?");
    expect([r1.subtype, r2.subtype, r3.subtype]).toEqual(["success", "success", "success"]);
    expect(new Set([r1.session_id, r2.session_id, r3.session_id]).size).toBe(1);
    expect(messagesText(world.stub.turnRequests()[2]!.body)).toContain("my name is Ada");
    // total_cost_usd is cumulative over the process's turns.
    expect(r3.total_cost_usd as number).toBeGreaterThan(r1.total_cost_usd as number);
    const malformed = p.lines.map((l) => parseLine(JSON.stringify(l))).filter((l) => l?.type === "malformed");
    expect(malformed).toEqual([]);
    expect(await p.close()).toBe(0);
  });

  it("set_model: the CLI checks the model with the API, then the next turn uses it with the whole history", async () => {
    const p = start(["--tools", "", "--model", "claude-sonnet-4-6"]);
    await p.turn("first turn");
    const before = world.stub.requests.length;
    const resp = await control(p, "m1", { subtype: "set_model", model: "claude-haiku-4-5" });
    expect(resp.response).toMatchObject({ subtype: "success", request_id: "m1" });
    // The check is one small, non-streaming request (it spends a little of the subscription).
    const check = world.stub.requests.slice(before);
    expect(check).toHaveLength(1);
    expect(check[0]!.body).toMatchObject({ model: "claude-haiku-4-5", max_tokens: 1 });
    expect(check[0]!.body.stream).toBeUndefined();

    await p.turn("second turn");
    const last = world.stub.turnRequests().at(-1)!;
    expect(last.body.model).toBe("claude-haiku-4-5");
    expect(messagesText(last.body)).toContain("first turn");
  });

  it("interrupt ends a hanging turn as error_during_execution; the process lives on and the session continues", async () => {
    const p = start(["--tools", "", "--model", "claude-sonnet-4-6"]);
    const first = await p.turn("first turn");
    world.stub.setDefault({ kind: "hang" });
    const from = p.lines.length;
    p.user("this one hangs");
    await world.stub.waitForTurnRequests(2);
    const ack = await control(p, "i1", { subtype: "interrupt" });
    expect(ack.response).toMatchObject({ subtype: "success", request_id: "i1" });
    const interrupted = await p.next((l) => l.type === "result", from);
    expect(interrupted).toMatchObject({ subtype: "error_during_execution", is_error: true });
    expect(p.child.exitCode).toBeNull();

    world.stub.setDefault(text("after the interrupt"));
    const next = await p.turn("next turn");
    expect(next).toMatchObject({ subtype: "success", result: "after the interrupt" });
    expect(next.session_id).toBe(first.session_id);
    const sent = messagesText(world.stub.turnRequests().at(-1)!.body);
    expect(sent).toContain("this one hangs");
    expect(sent).toContain("next turn");
  });

  it("--permission-prompt-tool stdio: each tool call asks on stdout; allow runs it, deny runs nothing", async () => {
    world.stub.enqueue(
      toolUse("Bash", { command: "touch allowed-marker", description: "first" }),
      toolUse("Bash", { command: "touch denied-marker", description: "second" }),
      text("done"),
    );
    const p = start(["--tools", "Bash", "--permission-prompt-tool", "stdio"]);
    const canUseTool = (l: Record<string, unknown>) =>
      l.type === "control_request" && (l.request as { subtype?: string })?.subtype === "can_use_tool";
    const asked: string[] = [];
    const answer = async (from: number, decide: (input: unknown) => Record<string, unknown>) => {
      const req = await p.next(canUseTool, from);
      const r = req.request as { tool_name: string; input: { command: string } };
      asked.push(`${r.tool_name}: ${r.input.command}`);
      p.send({
        type: "control_response",
        response: { subtype: "success", request_id: req.request_id, response: decide(r.input) },
      });
      return p.lines.indexOf(req) + 1;
    };
    const from = p.lines.length;
    p.user("go");
    const after = await answer(from, (input) => ({ behavior: "allow", updatedInput: input }));
    await answer(after, () => ({ behavior: "deny", message: "the operator said no" }));
    const result = await p.next((l) => l.type === "result", from);
    expect(asked).toEqual(["Bash: touch allowed-marker", "Bash: touch denied-marker"]);
    expect(existsSync(join(world.work.dir, "allowed-marker"))).toBe(true);
    expect(existsSync(join(world.work.dir, "denied-marker"))).toBe(false);
    expect(result.permission_denials).toEqual([
      expect.objectContaining({
        tool_name: "Bash",
        tool_input: expect.objectContaining({ command: "touch denied-marker" }),
      }),
    ]);
    expect(JSON.stringify(world.stub.turnRequests()[2]!.body.messages)).toContain("the operator said no");
  });
});
