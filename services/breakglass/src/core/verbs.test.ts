import { describe, expect, it } from "vitest";
import { NOT_VERBS } from "../test-support/not-verbs.js";
import { confirmationProblem, isMutating, parseVerb, pveVerbCommand, VERBS, type Verb } from "./verbs.js";

describe("verb whitelist", () => {
  it("accepts exactly the six verbs", () => {
    for (const v of VERBS) expect(parseVerb(v)).toBe(v);
    expect(VERBS).toEqual(["status", "forensics", "reset", "stop", "start", "cycle"]);
  });

  it.each(NOT_VERBS)("refuses %j", (input) => {
    expect(parseVerb(input)).toBeUndefined();
  });

  it("refuses non-strings", () => {
    for (const v of [undefined, null, 1, ["reset"], { verb: "reset" }]) expect(parseVerb(v)).toBeUndefined();
  });

  it("reset, stop, start and cycle mutate; status and forensics do not", () => {
    expect(VERBS.filter(isMutating)).toEqual(["reset", "stop", "start", "cycle"]);
  });
});

describe("confirmation", () => {
  it.each<[Verb, unknown, string | undefined]>([
    ["status", undefined, undefined],
    ["status", {}, undefined],
    ["forensics", { confirm: "forensics" }, undefined],
    ["status", { confirm: "reset" }, 'confirm must be "status" or absent'],
    ["reset", undefined, 'reset changes the VM: send {"confirm":"reset"} to confirm'],
    ["reset", {}, 'reset changes the VM: send {"confirm":"reset"} to confirm'],
    ["reset", { confirm: true }, 'confirm must be exactly "reset"'],
    ["reset", { confirm: "cycle" }, 'confirm must be exactly "reset"'],
    ["reset", { confirm: "RESET" }, 'confirm must be exactly "reset"'],
    ["cycle", { confirm: "cycle" }, undefined],
    ["stop", { confirm: "stop", vmid: 100 }, "unknown field(s): vmid"],
    ["start", [], "the body must be a JSON object"],
    ["start", "start", "the body must be a JSON object"],
  ])("%s with %j", (verb, body, problem) => {
    expect(confirmationProblem(verb, body)).toBe(problem);
  });
});

describe("pveVerbCommand", () => {
  const opts = { sshBin: "/usr/bin/ssh", configPath: "/tmp/bg/config" };
  it.each(VERBS)("%s: ssh with a fixed argv, `--` before the alias, an empty environment", (verb) => {
    expect(pveVerbCommand(verb, opts)).toEqual({
      file: "/usr/bin/ssh",
      args: ["-F", "/tmp/bg/config", "-o", "BatchMode=yes", "--", "pve", verb],
      env: {},
    });
  });
  it("throws for anything else, whatever the caller's types say", () => {
    for (const bad of NOT_VERBS) expect(() => pveVerbCommand(bad as Verb, opts)).toThrow(TypeError);
  });
});
