import { describe, expect, it } from "vitest";
import { decodeMarker, encodeMarker, hasMarker, latestMarker, MarkerDecodeError } from "./marker.js";
import { marker } from "./test-support/fixtures.js";

describe("run marker", () => {
  it("round-trips inside surrounding markdown", () => {
    const m = marker({ phase: "pushed", sha: "abc1234", fixForwards: 2 });
    const body = `### AFK run\n- [x] something\n\n${encodeMarker(m)}\n`;
    expect(decodeMarker(body)).toEqual(m);
  });

  it("cannot be closed early by text inside it", () => {
    const m = marker({
      phase: "escalated",
      escalation: { reason: "CI said --> <!-- nope --> ok", from: "ci-running" },
    });
    const encoded = encodeMarker(m);
    expect(encoded.indexOf("-->")).toBe(encoded.length - 3);
    expect(decodeMarker(encoded)).toEqual(m);
  });

  it("stays readable (dates are not escaped)", () => {
    expect(encodeMarker(marker())).toContain('"phaseSince":"2026-03-02T10:00:00.000Z"');
  });

  it("is absent from ordinary comments", () => {
    expect(decodeMarker("LGTM <!-- a normal comment -->")).toBeNull();
    expect(hasMarker("LGTM")).toBe(false);
  });

  it.each([
    ["not JSON", "<!-- afk-state:v1 {nope -->"],
    ["wrong shape", '<!-- afk-state:v1 {"v":1} -->'],
    ["unknown phase", `<!-- afk-state:v1 ${JSON.stringify({ ...marker(), phase: "testing" })} -->`],
    ["not terminated", "<!-- afk-state:v1 {"],
  ])("a corrupt marker is an error, not silence: %s", (_, text) => {
    expect(() => decodeMarker(text)).toThrow(MarkerDecodeError);
  });

  it("carries a T3 outage, and a marker written before outages were tracked still decodes", () => {
    const down = marker({ t3Outage: { since: "2026-03-02T10:05:00.000Z", rang: true, reason: "t3: --> x" } });
    expect(decodeMarker(encodeMarker(down))).toEqual(down);
    expect(decodeMarker(encodeMarker(marker({ t3Outage: null })))?.t3Outage).toBeNull();
    const { t3Outage: _, ...old } = marker();
    const decoded = decodeMarker(`<!-- afk-state:v1 ${JSON.stringify(old)} -->`);
    expect(decoded).toEqual(old);
    expect(decoded?.t3Outage).toBeUndefined();
    const bad = { ...old, t3Outage: { since: "a while ago", rang: false, reason: "x" } };
    expect(() => decodeMarker(`<!-- afk-state:v1 ${JSON.stringify(bad)} -->`)).toThrow(MarkerDecodeError);
  });

  it("refuses to encode an invalid marker", () => {
    expect(() => encodeMarker({ ...marker(), fixForwards: -1 })).toThrow();
  });

  it("latestMarker takes the last comment that has one", () => {
    const comments = [
      { id: 1, body: encodeMarker(marker({ threadId: "old" })) },
      { id: 2, body: "human note" },
      { id: 3, body: encodeMarker(marker({ threadId: "new" })) },
      { id: 4, body: "another note" },
    ];
    expect(latestMarker(comments)).toMatchObject({ comment: { id: 3 }, marker: { threadId: "new" } });
    expect(latestMarker([{ body: "x" }])).toBeNull();
  });
});
