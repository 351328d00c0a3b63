import { describe, expect, it } from "vitest";
import {
  checkoutBranch,
  childEnv,
  cloneBase,
  cloneJob,
  fetchBase,
  gitCryptUnlock,
  resolveCommit,
  setOriginUrl,
  setUpstream,
} from "./commands.js";

describe("commands", () => {
  // Expected argv as one string, split on spaces (no argument here has one).
  it.each([
    [
      cloneBase("https://h/r.git", "/w/bases/ab.partial"),
      "clone --bare --no-local --quiet -c gc.auto=0 -c maintenance.auto=false -c fetch.unpackLimit=1 -- https://h/r.git /w/bases/ab.partial",
    ],
    [fetchBase(), "fetch --prune --prune-tags --quiet origin"],
    [resolveCommit("v1"), "rev-parse --verify --quiet --end-of-options v1^{commit}"],
    [cloneJob("/w/bases/ab", "/w/jobs/j1"), "clone --local --no-checkout --quiet -- /w/bases/ab /w/jobs/j1"],
    [setOriginUrl("git@h:r"), "config remote.origin.url git@h:r"],
    [checkoutBranch("job/j1", "abc"), "checkout --quiet -B job/j1 abc --"],
    [setUpstream("feature/x"), "branch --quiet --set-upstream-to=origin/feature/x feature/x"],
  ])("git %#", (command, argv) => {
    expect(command).toEqual({ file: "git", args: argv.split(" ") });
  });

  it("never asks for shared objects or a shell", () => {
    for (const { args } of [cloneBase("/r", "/b"), cloneJob("/b", "/j")]) {
      expect(args).not.toContain("--shared");
      expect(args).not.toContain("--reference");
    }
  });

  it("unlocks git-crypt with the key file", () => {
    expect(gitCryptUnlock("/keys/k")).toEqual({ file: "git-crypt", args: ["unlock", "/keys/k"] });
  });
});

describe("childEnv", () => {
  it("switches prompts off and keeps the rest", () => {
    const env = childEnv({ PATH: "/usr/bin", HOME: "/home/x", EMPTY: undefined });
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/x",
      GIT_TERMINAL_PROMPT: "0",
      GCM_INTERACTIVE: "never",
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
    });
  });

  it("drops variables that would point git at another repository", () => {
    const env = childEnv({
      GIT_DIR: "/x/.git",
      GIT_WORK_TREE: "/x",
      GIT_INDEX_FILE: "/i",
      GIT_TERMINAL_PROMPT: "1",
    });
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.GIT_WORK_TREE).toBeUndefined();
    expect(env.GIT_INDEX_FILE).toBeUndefined();
    expect(env.GIT_TERMINAL_PROMPT).toBe("0");
  });

  it("keeps a configured ssh command", () => {
    expect(childEnv({ GIT_SSH_COMMAND: "ssh -i /k" }).GIT_SSH_COMMAND).toBe("ssh -i /k");
  });
});
