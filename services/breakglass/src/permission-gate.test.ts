import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createChatService } from "./chat.js";
import { SessionTable } from "./core/sessions.js";
import type { ChatEvent } from "./core/wire.js";
import { fakeTurns } from "./test-support/fakes.js";

const logger = pino({ level: "silent" });

afterEach(() => {
  vi.useRealTimers();
});

/** A turn held mid-way, so its `canUseTool` can be called as the CLI would. */
async function heldTurn(promptTimeoutMs = 60_000) {
  const turns = fakeTurns();
  const chat = createChatService({
    turns,
    sessions: new SessionTable({ maxSessions: 5, now: () => new Date(), mintId: () => crypto.randomUUID() }),
    maxConcurrentTurns: 2,
    logger,
    readOnlyCommands: ["uptime"],
    promptTimeoutMs,
  });
  const { view } = chat.create("alice");
  turns.hold();
  const log = chat.startTurn(view.id, "alice", "go");
  await vi.waitFor(() => expect(turns.calls).toHaveLength(1));
  const events: ChatEvent[] = [];
  log.subscribe(-1, (i) => events.push(i.event));
  const ask = (command: string) => turns.calls[0]!.canUseTool({ toolName: "Bash", input: { command } });
  const prompt = async () => {
    await vi.waitFor(() => expect(events.some((e) => e.type === "permission")).toBe(true));
    return events.findLast((e) => e.type === "permission") as Extract<ChatEvent, { type: "permission" }>;
  };
  return { turns, chat, log, events, ask, prompt, id: view.id };
}

describe("the permission gate", () => {
  it("allows the read-only list and refuses what is not one ssh, without a prompt", async () => {
    const t = await heldTurn();
    expect(await t.ask("ssh devvm 'uptime'")).toEqual({ behavior: "allow" });
    expect(await t.ask("ssh pve status")).toEqual({ behavior: "allow" });
    expect(await t.ask("rm -rf /")).toMatchObject({ behavior: "deny" });
    expect(
      await t.turns.calls[0]!.canUseTool({ toolName: "Read", input: { file_path: "/k" } }),
    ).toMatchObject({
      behavior: "deny",
    });
    expect(t.events.filter((e) => e.type === "permission")).toEqual([]);
    t.turns.release();
  });

  it("asks the owner; only the owner's answer counts, once", async () => {
    const t = await heldTurn();
    const decided = t.ask("ssh devvm reboot");
    const p = await t.prompt();
    expect(p).toMatchObject({ command: "ssh devvm reboot", risk: "remote-shell" });
    expect(() => t.chat.answerPermission(t.id, "mallory", p.id, "allow")).toThrow(/no session/);
    t.chat.answerPermission(t.id, "alice", p.id, "deny", "why?");
    expect(await decided).toEqual({
      behavior: "deny",
      message: "The operator denied this command: not run. Their note: why?",
    });
    expect(() => t.chat.answerPermission(t.id, "alice", p.id, "allow")).toThrow(/no open permission/);
    expect(t.events.at(-1)).toEqual({
      type: "permission_decision",
      id: p.id,
      decision: "deny",
      by: "alice",
      note: "why?",
    });
    t.turns.release();
  });

  it("no answer in time is a deny", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const t = await heldTurn(5000);
    const decided = t.ask("ssh pve reset");
    const p = await t.prompt();
    expect(p.risk).toBe("mutating");
    vi.advanceTimersByTime(5000);
    expect(await decided).toMatchObject({ behavior: "deny", message: expect.stringContaining("No answer") });
    expect(t.events.at(-1)).toMatchObject({ type: "permission_decision", decision: "timeout", by: null });
    t.turns.release();
  });

  it("a stopped turn cancels its open prompt before it is done", async () => {
    const t = await heldTurn();
    const decided = t.ask("ssh pve cycle");
    const p = await t.prompt();
    t.chat.stopTurn(t.id, "alice");
    expect(await decided).toMatchObject({ behavior: "deny" });
    await vi.waitFor(() => expect(t.log.finished).toBe(true));
    const types = t.events.map((e) => e.type);
    expect(types.indexOf("permission_decision")).toBeLessThan(types.indexOf("done"));
    expect(t.events.find((e) => e.type === "permission_decision")).toMatchObject({
      id: p.id,
      decision: "cancelled",
    });
  });
});
