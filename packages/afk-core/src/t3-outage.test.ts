import { describe, expect, it } from "vitest";
import { decodeMarker, encodeMarker } from "./marker.js";
import { type T3OutageInput, t3OutageStep, withT3Outage } from "./t3-outage.js";
import { at, marker } from "./test-support/fixtures.js";
import type { T3Outage } from "./types.js";

const DOWN = "t3: GET /api/orchestration/snapshot failed: fetch failed";
const OFF =
  "t3: GET /api/orchestration/threads/t-1 answered outside the contract: thread.latestTurn.state: …";

const step = (over: Partial<T3OutageInput>) =>
  t3OutageStep({ outage: null, failure: DOWN, now: at(0), limitMinutes: 30, ...over });
const outage = (over: Partial<T3Outage> = {}): T3Outage => ({
  since: at(0),
  rang: false,
  reason: DOWN,
  ...over,
});

describe("t3OutageStep", () => {
  it.each<{ name: string; input: Partial<T3OutageInput>; next: T3Outage | null; rings: boolean }>([
    // T3 answered
    { name: "answered, no outage", input: { failure: null }, next: null, rings: false },
    {
      name: "answered, outage before the ring",
      input: { failure: null, outage: outage() },
      next: null,
      rings: false,
    },
    {
      name: "answered after the ring: the outage is over (a later one rings again)",
      input: { failure: null, outage: outage({ rang: true }), now: at(90) },
      next: null,
      rings: false,
    },
    {
      name: "answered, old marker without the field",
      input: { failure: null, outage: undefined },
      next: null,
      rings: false,
    },
    // an outage starts
    {
      name: "first failure: starts now",
      input: { now: at(5) },
      next: outage({ since: at(5) }),
      rings: false,
    },
    {
      name: "first failure, old marker without the field",
      input: { outage: undefined },
      next: outage(),
      rings: false,
    },
    // an outage goes on
    { name: "below the limit", input: { outage: outage(), now: at(29) }, next: outage(), rings: false },
    {
      name: "just below the limit (seconds do not round up)",
      input: { outage: outage(), now: new Date(Date.parse(at(30)) - 1).toISOString() },
      next: outage(),
      rings: false,
    },
    {
      name: "at the limit: rings",
      input: { outage: outage(), now: at(30) },
      next: outage({ rang: true }),
      rings: true,
    },
    {
      name: "past the limit, not rung yet (no tick ran at the limit): rings",
      input: { outage: outage(), now: at(95) },
      next: outage({ rang: true }),
      rings: true,
    },
    {
      name: "already rung: never again within the outage",
      input: { outage: outage({ rang: true }), now: at(300) },
      next: outage({ rang: true }),
      rings: false,
    },
    {
      name: "the reason follows the latest failure; the start stays",
      input: { outage: outage(), failure: OFF, now: at(10) },
      next: outage({ reason: OFF }),
      rings: false,
    },
    {
      name: "a clock behind the outage's start does not ring",
      input: { outage: outage({ since: at(10) }), now: at(0), limitMinutes: 1 },
      next: outage({ since: at(10) }),
      rings: false,
    },
    {
      name: "a limit of one minute",
      input: { outage: outage(), now: at(1), limitMinutes: 1 },
      next: outage({ rang: true }),
      rings: true,
    },
  ])("$name", ({ input, next, rings }) => {
    const result = step(input);
    expect(result.outage).toEqual(next);
    expect(result.ring !== null).toBe(rings);
  });

  it("the ring says for how long, the limit, and the failure", () => {
    expect(step({ outage: outage(), failure: OFF, now: at(42) }).ring).toEqual({
      minutes: 42,
      reason: `T3 unreachable or answering outside its contract for 42 minutes (limit 30): ${OFF}`,
    });
  });

  it("rings exactly once across a long outage, and again for the next one", () => {
    let carried: T3Outage | null = null;
    let rings = 0;
    const tick = (minute: number, failure: string | null) => {
      const r = t3OutageStep({ outage: carried, failure, now: at(minute), limitMinutes: 30 });
      carried = r.outage;
      if (r.ring) rings += 1;
    };
    for (let m = 0; m <= 120; m += 5) tick(m, m % 10 === 0 ? DOWN : OFF);
    expect(rings).toBe(1);
    tick(125, null);
    expect(carried).toBeNull();
    for (let m = 130; m <= 155; m += 5) tick(m, DOWN);
    expect(rings).toBe(1);
    tick(160, DOWN);
    expect(rings).toBe(2);
  });
});

describe("withT3Outage", () => {
  it("returns the very same marker when nothing changed (nothing to write)", () => {
    const plain = marker();
    expect(withT3Outage(plain, null, at(5))).toBe(plain);
    const cleared = marker({ t3Outage: null });
    expect(withT3Outage(cleared, null, at(5))).toBe(cleared);
    const down = marker({ t3Outage: outage() });
    expect(withT3Outage(down, outage(), at(5))).toBe(down);
  });

  it.each<[string, T3Outage | null | undefined, T3Outage | null]>([
    ["an outage starts", undefined, outage()],
    ["the doorbell rang", outage(), outage({ rang: true })],
    ["the reason changed", outage(), outage({ reason: OFF })],
    ["the outage is over", outage({ rang: true }), null],
  ])("records a change: %s", (_, before, after) => {
    const m = marker({ t3Outage: before });
    const next = withT3Outage(m, after, at(5));
    expect(next).not.toBe(m);
    expect(next).toEqual({ ...m, t3Outage: after, updatedAt: at(5) });
    // What the watcher writes decodes back.
    expect(decodeMarker(encodeMarker(next))).toEqual(next);
  });
});
