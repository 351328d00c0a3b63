import { describe, expect, it } from "vitest";
import { findQueueStalls } from "./queue-stall.js";
import { at, issue } from "./test-support/fixtures.js";

describe("findQueueStalls", () => {
  const holder = issue({ number: 1, labels: ["agent-in-progress"] });
  const waiting = issue({ number: 2, createdAt: at(0) });
  const cases = [
    { name: "lock younger than the limit", since: at(100), now: at(300), stalled: false },
    { name: "lock and issue older than the limit", since: at(0), now: at(240), stalled: true, minutes: 240 },
    { name: "just under the limit", since: at(1), now: at(240), stalled: false },
    {
      name: "a lock without a marker counts from the issue's creation",
      since: null,
      now: at(240),
      stalled: true,
    },
  ];
  it.each(cases)("$name", (c) => {
    const stalls = findQueueStalls({
      blocked: [waiting],
      locks: [{ holder, since: c.since }],
      now: c.now,
      limitMinutes: 240,
    });
    expect(stalls.length > 0).toBe(c.stalled);
    if (c.minutes) expect(stalls[0]!.blockedMinutes).toBe(c.minutes);
  });

  it("measures from the later of the issue's creation and the lock", () => {
    const young = issue({ number: 3, createdAt: at(200) });
    expect(
      findQueueStalls({
        blocked: [young],
        locks: [{ holder, since: at(0) }],
        now: at(300),
        limitMinutes: 240,
      }),
    ).toEqual([]);
  });

  it("ignores blocked issues of repositories without a lock", () => {
    const other = issue({ repo: "acme/api", number: 4 });
    expect(
      findQueueStalls({ blocked: [other], locks: [{ holder, since: at(0) }], now: at(999), limitMinutes: 1 }),
    ).toEqual([]);
  });
});
