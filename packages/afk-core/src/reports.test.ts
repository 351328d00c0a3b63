import { describe, expect, it } from "vitest";
import { parseReports } from "./reports.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("parseReports", () => {
  it.each([
    { name: "nothing", texts: ["Working on it."], phases: [], sha: null, blocked: null },
    {
      name: "tests red",
      texts: ["Wrote tests.\nPHASE: tests-red\n"],
      phases: ["tests-red"],
      sha: null,
      blocked: null,
    },
    {
      name: "phases across messages, in order",
      texts: ["PHASE: tests-red", "done\n  PHASE: TESTS-GREEN  "],
      phases: ["tests-red", "tests-green"],
      sha: null,
      blocked: null,
    },
    {
      name: "pushed sha (lower-cased)",
      texts: [`PUSHED ${SHA.toUpperCase()}`],
      phases: [],
      sha: SHA,
      blocked: null,
    },
    {
      name: "last push wins",
      texts: ["PUSHED abcdef1", `PUSHED ${SHA}`],
      phases: [],
      sha: SHA,
      blocked: null,
    },
    {
      name: "blocked",
      texts: ["BLOCKED: no access to the staging DB"],
      phases: [],
      sha: null,
      blocked: "no access to the staging DB",
    },
    {
      name: "only whole lines count",
      texts: ["I will write PHASE: tests-red later", "not PUSHED abcdef1"],
      phases: [],
      sha: null,
      blocked: null,
    },
    {
      name: "unknown phases are ignored",
      texts: ["PHASE: deployed", "PHASE: ci-green"],
      phases: [],
      sha: null,
      blocked: null,
    },
    {
      name: "the prompt's placeholder is not a sha",
      texts: ["PUSHED <full commit sha>"],
      phases: [],
      sha: null,
      blocked: null,
    },
    {
      name: "empty blocked reason is not a report",
      texts: ["BLOCKED:   "],
      phases: [],
      sha: null,
      blocked: null,
    },
  ])("$name", ({ texts, phases, sha, blocked }) => {
    expect(parseReports(texts)).toEqual({ phases, sha, blocked });
  });
});
