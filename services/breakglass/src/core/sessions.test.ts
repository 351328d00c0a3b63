import { describe, expect, it } from "vitest";
import { isRunning, isSessionId, type RunningTurn, SessionTable, sessionView } from "./sessions.js";
import { TurnLog } from "./turn-log.js";

function table(maxSessions = 3) {
  let n = 0;
  let t = 0;
  return new SessionTable({
    maxSessions,
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)),
    mintId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
  });
}
const turn = (): RunningTurn => ({
  log: new TurnLog(),
  prompts: new Map(),
  controller: new AbortController(),
  settled: Promise.resolve(),
});

describe("SessionTable", () => {
  it("creates sessions with minted ids, visible to their owner only", () => {
    const t = table();
    const a = t.create("alice");
    expect(a).toMatchObject({ ok: true, created: true });
    if (!a.ok) throw new Error();
    expect(isSessionId(a.session.id)).toBe(true);
    expect(t.get(a.session.id, "alice")).toBe(a.session);
    expect(t.get(a.session.id, "bob")).toBeUndefined();
    expect(t.list("bob")).toEqual([]);
  });

  it("a requested id is idempotent for its owner and taken for anyone else", () => {
    const t = table();
    const id = "6f1c2a3b-1111-4222-8333-944445555666";
    const first = t.create("alice", id);
    expect(first).toMatchObject({ ok: true, created: true });
    expect(t.create("alice", id)).toMatchObject({ ok: true, created: false });
    expect(t.create("bob", id)).toEqual({ ok: false, reason: "taken" });
  });

  it("over the limit, the longest-idle session goes; running ones never do", () => {
    const t = table(2);
    const a = t.create("alice");
    const b = t.create("alice");
    if (!a.ok || !b.ok) throw new Error();
    t.beginTurn(a.session, "hi", turn());
    expect(isRunning(a.session)).toBe(true);
    const c = t.create("alice");
    expect(c.ok).toBe(true);
    expect(t.get(b.session.id, "alice")).toBeUndefined();
    expect(t.get(a.session.id, "alice")).toBe(a.session);
    // Both left are busy? Then there is no room.
    if (!c.ok) throw new Error();
    t.beginTurn(c.session, "hi", turn());
    expect(t.create("alice")).toEqual({ ok: false, reason: "full" });
  });

  it("a turn adds the user's message and an open assistant entry; the view says running", () => {
    const t = table();
    const s = t.create("alice");
    if (!s.ok) throw new Error();
    const tl = turn();
    const entry = t.beginTurn(s.session, "is it up?", tl);
    expect(entry).toMatchObject({ role: "assistant", parts: [], complete: false });
    expect(sessionView(s.session)).toMatchObject({
      running: true,
      lastSeq: -1,
      history: [{ role: "user", text: "is it up?" }, { role: "assistant" }],
    });
    tl.log.push({ type: "done" });
    expect(sessionView(s.session)).toMatchObject({ running: false, lastSeq: 0 });
  });

  it("isSessionId wants a lowercase UUID", () => {
    expect(isSessionId("6f1c2a3b-1111-4222-8333-944445555666")).toBe(true);
    expect(isSessionId("6F1C2A3B-1111-4222-8333-944445555666")).toBe(false);
    expect(isSessionId("../etc")).toBe(false);
  });
});

describe("TurnLog", () => {
  it("numbers events, replays after a sequence number, follows live ones, ends at done", () => {
    const log = new TurnLog();
    log.push({ type: "session", sessionId: "s", resumed: false });
    log.push({ type: "text", delta: "a" });
    const seen: number[] = [];
    const unsubscribe = log.subscribe(0, (i) => seen.push(i.seq));
    expect(seen).toEqual([1]);
    log.push({ type: "text", delta: "b" });
    log.push({ type: "done" });
    expect(seen).toEqual([1, 2, 3]);
    expect(log.finished).toBe(true);
    expect(() => log.push({ type: "text", delta: "late" })).toThrow();
    unsubscribe();
    const replay: number[] = [];
    log.subscribe(-1, (i) => replay.push(i.seq));
    expect(replay).toEqual([0, 1, 2, 3]);
  });

  it("an unsubscribed listener hears nothing more", () => {
    const log = new TurnLog();
    const seen: string[] = [];
    const off = log.subscribe(-1, (i) => seen.push(i.event.type));
    log.push({ type: "text", delta: "a" });
    off();
    log.push({ type: "done" });
    expect(seen).toEqual(["text"]);
  });
});
