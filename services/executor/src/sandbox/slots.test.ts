import { describe, expect, it } from "vitest";
import { createSlotPool } from "./slots.js";

describe("createSlotPool", () => {
  it("hands out the lowest free slot, each once, until none is left", () => {
    const pool = createSlotPool(3);
    expect([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]).toEqual([0, 1, 2, undefined]);
    expect(pool.free).toBe(0);
    pool.release(1);
    expect(pool.free).toBe(1);
    expect(pool.acquire()).toBe(1);
  });
  it("releasing a free slot changes nothing", () => {
    const pool = createSlotPool(2);
    pool.release(0);
    expect(pool.free).toBe(2);
    expect(pool.acquire()).toBe(0);
  });
  it("an empty pool has nothing to give", () => {
    expect(createSlotPool(0).acquire()).toBeUndefined();
  });
});
