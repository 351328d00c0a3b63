import { describe, expect, it } from "vitest";
import { createStopScanner, truncateAtStop } from "./stop.js";

describe("truncateAtStop", () => {
  it.each<[string, string[], string]>([
    ["no stops", [], "hello world"],
    ["no match", ["xyz"], "hello world"],
    ["cut before the stop", ["world"], "hello "],
    ["the earliest of several", ["world", "lo"], "hel"],
    ["a stop at the start", ["hello"], ""],
    ["an empty stop is ignored", [""], "hello world"],
  ])("%s", (_name, stops, expected) => {
    expect(truncateAtStop("hello world", stops)).toBe(expected);
  });
});

describe("createStopScanner over deltas", () => {
  const run = (stops: string[], deltas: string[]) => {
    const s = createStopScanner(stops);
    const sent = deltas.map((d) => s.push(d));
    return { sent, flushed: s.flush(), stopped: s.stopped };
  };

  it.each<[string, string[], string[], { sent: string[]; flushed: string; stopped: boolean }]>([
    [
      "passes text through without stops",
      [],
      ["ab", "cd"],
      { sent: ["ab", "cd"], flushed: "", stopped: false },
    ],
    [
      "holds back a possible beginning, then releases it",
      ["END"],
      ["abE", "x"],
      { sent: ["ab", "Ex"], flushed: "", stopped: false },
    ],
    [
      "a stop split across deltas",
      ["END"],
      ["abE", "N", "Dzz"],
      { sent: ["ab", "", ""], flushed: "", stopped: true },
    ],
    ["nothing after the stop", ["END"], ["aEND", "more"], { sent: ["a", ""], flushed: "", stopped: true }],
    ["held text is flushed at the end", ["END"], ["abEN"], { sent: ["ab"], flushed: "EN", stopped: false }],
    [
      "the longest possible beginning of any stop is held",
      ["xyz", "yq"],
      ["axy"],
      { sent: ["a"], flushed: "xy", stopped: false },
    ],
    ["a stop inside one delta", ["\n\n"], ["line\n\nnext"], { sent: ["line"], flushed: "", stopped: true }],
  ])("%s", (_name, stops, deltas, expected) => {
    expect(run(stops, deltas)).toEqual(expected);
  });

  it("sends exactly the truncated answer, however the text is split", () => {
    const text = "The answer is 42. STOP and nothing more. STOP";
    for (let size = 1; size <= 8; size++) {
      const s = createStopScanner(["STOP", "nothing"]);
      let out = "";
      for (let i = 0; i < text.length; i += size) out += s.push(text.slice(i, i + size));
      out += s.flush();
      expect(out).toBe(truncateAtStop(text, ["STOP", "nothing"]));
    }
  });
});
