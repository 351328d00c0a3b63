import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createChatService } from "./chat.js";
import { SessionTable } from "./core/sessions.js";
import { fakePve, fakeTurns } from "./test-support/fakes.js";
import { createVmService } from "./vm.js";

const logger = pino({ level: "silent" });
afterEach(() => {
  vi.useRealTimers();
});

/** A chat service with one turn running, held mid-way until `turns.release()`. */
async function heldTurn() {
  const turns = fakeTurns();
  const chat = createChatService({
    turns,
    sessions: new SessionTable({ maxSessions: 5, now: () => new Date(), mintId: () => crypto.randomUUID() }),
    maxConcurrentTurns: 2,
    logger,
  });
  const { view } = chat.create("alice");
  turns.hold();
  const log = chat.startTurn(view.id, "alice", "go");
  await vi.waitFor(() => expect(turns.calls).toHaveLength(1));
  return { turns, chat, log };
}

describe("shutdown", () => {
  it("running turns get the grace period, then are stopped (cancelled) and awaited", async () => {
    vi.useFakeTimers();
    const { chat, log } = await heldTurn();
    let drained = false;
    const draining = chat.drain(30_000).then(() => {
      drained = true;
    });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await draining;
    const events: string[] = [];
    log.subscribe(-1, (i) => events.push(i.event.type === "error" ? `error:${i.event.error}` : i.event.type));
    expect(events.slice(-2)).toEqual(["error:cancelled", "done"]);
    expect(chat.running).toBe(0);
  });

  it("a turn that ends within the grace period is not stopped", async () => {
    const { turns, chat, log } = await heldTurn();
    const draining = chat.drain(60_000);
    turns.release();
    await draining;
    expect(log.finished).toBe(true);
    const types: string[] = [];
    log.subscribe(-1, (i) => types.push(i.event.type));
    expect(types).not.toContain("error");
  });

  it("a running verb is waited for, up to the grace period", async () => {
    vi.useFakeTimers();
    const pve = fakePve();
    const vm = createVmService({ runner: pve, vmid: 102, logger });
    pve.hold();
    const running = vm.run("cycle", "alice");
    let drained = false;
    const draining = vm.drain(10_000).then(() => {
      drained = true;
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(drained).toBe(false);
    pve.release();
    await draining;
    expect((await running).ok).toBe(true);
    // Nothing running: immediate.
    await vm.drain(10_000);
  });
});
