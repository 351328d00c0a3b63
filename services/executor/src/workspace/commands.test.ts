import { describe, expect, it } from "vitest";
import {
  checkoutBranch,
  childEnv,
  cloneBase,
  cloneJob,
  credentialStoreHelper,
  fetchBase,
  gitCryptUnlock,
  lsRemote,
  readBlob,
  resolveCommit,
  setOriginUrl,
  setUpstream,
  treeEntries,
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
    [lsRemote("https://h/r.git"), "ls-remote --heads --tags --quiet -- https://h/r.git"],
    [readBlob("abc123"), "cat-file blob abc123"],
  ])("git %#", (command, argv) => {
    expect(command).toEqual({ file: "git", args: argv.split(" ") });
  });

  it("lists tree entries with sizes, paths read literally", () => {
    expect(treeEntries("c0ffee", [".gitattributes", ":(glob)x/.gitattributes"])).toEqual({
      file: "git",
      args: [
        "ls-tree",
        "-l",
        "-z",
        "--full-tree",
        "--end-of-options",
        "c0ffee",
        "--",
        ".gitattributes",
        ":(glob)x/.gitattributes",
      ],
      env: { GIT_LITERAL_PATHSPECS: "1" },
    });
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
  it("switches prompts, global config and every credential helper off, and keeps the rest", () => {
    const env = childEnv({ PATH: "/usr/bin", HOME: "/home/x", EMPTY: undefined });
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/x",
      GIT_TERMINAL_PROMPT: "0",
      GCM_INTERACTIVE: "never",
      GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "",
    });
  });

  it("adds the credential-store helper for a credentials file, after clearing every other", () => {
    const env = childEnv({ PATH: "/usr/bin" }, "/etc/git/credentials");
    expect(env).toMatchObject({
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: "credential.helper",
      GIT_CONFIG_VALUE_1: credentialStoreHelper("/etc/git/credentials"),
    });
  });

  it("drops tracing (it would log the Authorization header) and inherited config", () => {
    const env = childEnv({
      GIT_TRACE: "1",
      GIT_TRACE_CURL: "/tmp/t",
      GIT_TRACE2_EVENT: "/tmp/e",
      GIT_CURL_VERBOSE: "1",
      GIT_CONFIG_COUNT: "5",
      GIT_CONFIG_KEY_3: "core.fsmonitor",
      GIT_CONFIG_VALUE_3: "touch /tmp/pwned",
      GIT_CONFIG_PARAMETERS: "'core.fsmonitor'='x'",
      GIT_CONFIG_GLOBAL: "/home/x/.gitconfig",
    });
    expect(Object.keys(env).filter((k) => k.startsWith("GIT_TRACE") || k === "GIT_CURL_VERBOSE")).toEqual([]);
    expect(env.GIT_CONFIG_KEY_3).toBeUndefined();
    expect(env.GIT_CONFIG_PARAMETERS).toBeUndefined();
    expect(env.GIT_CONFIG_COUNT).toBe("1");
    expect(env.GIT_CONFIG_GLOBAL).toBe("/dev/null");
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
