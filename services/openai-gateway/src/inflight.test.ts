import { describe, expect, it } from "vitest";
import { InFlight } from "./inflight.js";

describe("InFlight", () => {
  it("is idle at once when nothing runs", async () => {
    expect(await new InFlight().idle(10)).toBe(true);
  });

  it("waits for tracked work, failed work included, and gives up after the timeout", async () => {
    const inflight = new InFlight();
    let finish!: () => void;
    inflight.track(new Promise<void>((r) => (finish = r)));
    inflight.track(Promise.reject(new Error("x"))).catch(() => {});
    expect(inflight.size).toBe(2);
    expect(await inflight.idle(20)).toBe(false);
    finish();
    expect(await inflight.idle(1000)).toBe(true);
    expect(inflight.size).toBe(0);
  });
});
