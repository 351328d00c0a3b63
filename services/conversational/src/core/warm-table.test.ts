import { describe, expect, it } from "vitest";
import { evictionVictim, expired, poolShortfall, touchModel, type WarmEntry } from "./warm-table.js";

const entry = (over: Partial<WarmEntry> & { name: string }): WarmEntry & { name: string } => ({
  conversationId: "c",
  model: "haiku",
  busy: false,
  startedAt: 0,
  lastUsedAt: 0,
  ...over,
});
const names = (list: Array<{ name: string }>) => list.map((e) => e.name);

describe("expired", () => {
  const limits = { idleMs: 1_000, poolMaxAgeMs: 10_000 };
  it("closes conversations idle past idleMs and prewarmed processes past their age, never busy ones", () => {
    const entries = [
      entry({ name: "idle-long", lastUsedAt: 0 }),
      entry({ name: "idle-short", lastUsedAt: 500 }),
      entry({ name: "busy", lastUsedAt: 0, busy: true }),
      entry({ name: "pool-young", conversationId: undefined, startedAt: 0, lastUsedAt: 0 }),
      entry({ name: "pool-old", conversationId: undefined, startedAt: -9_500 }),
    ];
    expect(names(expired(entries, 1_000, limits))).toEqual(["idle-long", "pool-old"]);
    expect(names(expired(entries, 999, limits))).toEqual(["pool-old"]);
  });
  it("an idle time of 0 closes every idle conversation process", () => {
    expect(names(expired([entry({ name: "a", lastUsedAt: 5 })], 5, { idleMs: 0, poolMaxAgeMs: 1 }))).toEqual([
      "a",
    ]);
  });
});

describe("evictionVictim", () => {
  it("a prewarmed process first, then the conversation idle longest; never a busy one", () => {
    const conv = [entry({ name: "recent", lastUsedAt: 50 }), entry({ name: "oldest", lastUsedAt: 10 })];
    const busy = entry({ name: "busy", lastUsedAt: 0, busy: true });
    expect(evictionVictim([...conv, busy])?.name).toBe("oldest");
    const pooled = entry({ name: "pooled", conversationId: undefined, lastUsedAt: 99 });
    expect(evictionVictim([...conv, pooled, busy])?.name).toBe("pooled");
  });
  it("none when every process runs a turn", () => {
    expect(evictionVictim([entry({ name: "a", busy: true })])).toBeUndefined();
    expect(evictionVictim([])).toBeUndefined();
  });
});

describe("touchModel", () => {
  it("most recent first, no repeats, at most max", () => {
    expect(touchModel(["a", "b"], "c", 2)).toEqual(["c", "a"]);
    expect(touchModel(["a", "b"], "b", 2)).toEqual(["b", "a"]);
    expect(touchModel([], "a", 0)).toEqual([]);
  });
});

describe("poolShortfall", () => {
  it("tops up each model to the size, most recent model first, within the free slots", () => {
    const have = [entry({ name: "p", conversationId: undefined, model: "a" })];
    expect(poolShortfall(have, ["a", "b"], 2, 10)).toEqual(["a", "b", "b"]);
    expect(poolShortfall(have, ["a", "b"], 2, 2)).toEqual(["a", "b"]);
    expect(poolShortfall(have, ["a", "b"], 1, 10)).toEqual(["b"]);
    expect(poolShortfall(have, ["a"], 0, 10)).toEqual([]);
  });
  it("a conversation's process does not count as pooled", () => {
    const list = [entry({ name: "conv", conversationId: "x", model: "a" })];
    expect(poolShortfall(list, ["a"], 1, 5)).toEqual(["a"]);
  });
  it("one handed to a first turn still counts until that turn ends (no refill competing with it for CPU)", () => {
    const taken = [entry({ name: "taken", conversationId: undefined, model: "a", busy: true })];
    expect(poolShortfall(taken, ["a"], 1, 5)).toEqual([]);
    // A cold process started for a turn (conversation "" until kept) is not the pool's.
    const cold = [entry({ name: "cold", conversationId: "", model: "a", busy: true })];
    expect(poolShortfall(cold, ["a"], 1, 5)).toEqual(["a"]);
  });
});
