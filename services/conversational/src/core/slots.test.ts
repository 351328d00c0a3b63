import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TooManyTurnsError } from "../errors.js";
import { turnSlots } from "./slots.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settles pending promise callbacks without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0);

describe("turnSlots", () => {
  it("grants up to max at once, then queues; a freed slot goes to the longest waiting, in order", async () => {
    const slots = turnSlots({ max: 2, waitMs: 5_000, retryAfterSeconds: 2 });
    const a = await slots.acquire();
    await slots.acquire();
    expect(slots.running).toBe(2);
    const order: string[] = [];
    const queued = (name: string) =>
      slots.acquire().then((free) => {
        order.push(name);
        return free;
      });
    const c = queued("c");
    const d = queued("d");
    await flush();
    expect(slots.waiting).toBe(2);
    expect(order).toEqual([]);
    a();
    a(); // idempotent: frees one slot only
    await flush();
    expect(order).toEqual(["c"]);
    expect(slots.running).toBe(2);
    expect(slots.waiting).toBe(1);
    (await c)();
    await flush();
    expect(order).toEqual(["c", "d"]);
    (await d)();
    expect(slots.running).toBe(1);
  });

  it("a turn that waited waitMs without a slot gets TooManyTurnsError (429, Retry-After)", async () => {
    const slots = turnSlots({ max: 1, waitMs: 3_000, retryAfterSeconds: 2 });
    await slots.acquire();
    const waiting = slots.acquire();
    const outcome = waiting.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(slots.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(TooManyTurnsError);
    expect(err).toMatchObject({ status: 429, code: "too_many_turns", retryAfterSeconds: 2 });
    expect(slots.waiting).toBe(0);
    expect(slots.running).toBe(1);
  });

  it("one that timed out leaves the line; the next one in it still gets the slot", async () => {
    const slots = turnSlots({ max: 1, waitMs: 1_000, retryAfterSeconds: 1 });
    const held = await slots.acquire();
    const early = slots.acquire().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const late = slots.acquire();
    await vi.advanceTimersByTimeAsync(500);
    expect(await early).toBeInstanceOf(TooManyTurnsError);
    held();
    await flush();
    const free = await late;
    expect(slots.running).toBe(1);
    free();
    expect(slots.running).toBe(0);
    // Its timer was cleared with the grant: nothing fires later.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(slots.running).toBe(0);
  });

  it("waitMs 0: refused at once when full", async () => {
    const slots = turnSlots({ max: 1, waitMs: 0, retryAfterSeconds: 2 });
    await slots.acquire();
    await expect(slots.acquire()).rejects.toBeInstanceOf(TooManyTurnsError);
    expect(slots.waiting).toBe(0);
  });

  it("an abort (shutdown) takes a waiting turn out of line with the signal's reason", async () => {
    const slots = turnSlots({ max: 1, waitMs: 60_000, retryAfterSeconds: 2 });
    const held = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal).catch((e: unknown) => e);
    await flush();
    controller.abort(new Error("stopping"));
    expect(await waiting).toMatchObject({ message: "stopping" });
    expect(slots.waiting).toBe(0);
    held();
    expect(slots.running).toBe(0);
    await expect(slots.acquire(controller.signal)).rejects.toThrow("stopping");
  });
});
