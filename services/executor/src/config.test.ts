import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseBytes, workspaceOptions } from "./config.js";

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe("the workspace's variables", () => {
  it("defaults: no repository allowed, bases kept 7 days, a 20 GiB budget, no credentials", () => {
    const { env } = loadConfig({});
    expect(env.REPO_ALLOWLIST.rules).toEqual([]);
    expect(env.BASE_TTL_SECONDS).toBe(604_800);
    expect(env.WORKSPACE_MAX_BYTES).toBe(20 * 1024 ** 3);
    expect(env.GIT_CREDENTIALS_FILE).toBeUndefined();
    // Empty counts as unset (a manifest's placeholder).
    expect(loadConfig({ REPO_ALLOWLIST: "" }).env.REPO_ALLOWLIST.rules).toEqual([]);
  });

  it("parses REPO_ALLOWLIST once, listing every bad entry", () => {
    const { env } = loadConfig({ REPO_ALLOWLIST: "https://github.com/acme/, host:*.example.com" });
    expect(env.REPO_ALLOWLIST.rules.map((r) => r.entry)).toEqual([
      "https://github.com/acme/",
      "host:*.example.com",
    ]);
    expect(
      problemsOf({
        REPO_ALLOWLIST: "https://github.com/acme/,http://x/y,https://u:p@h/x",
        WORKSPACE_MAX_BYTES: "lots",
      }),
    ).toEqual([
      'REPO_ALLOWLIST: entry 2 ("http://x/y"): scheme http:// is not allowed',
      'REPO_ALLOWLIST: entry 3 ("https://***@h/x"): must not carry credentials (a user:password@)',
      "WORKSPACE_MAX_BYTES: a size in bytes, or with Ki, Mi, Gi or Ti (e.g. 20Gi)",
    ]);
  });

  it("wants GIT_CREDENTIALS_FILE absolute, and never reads it here", () => {
    expect(problemsOf({ GIT_CREDENTIALS_FILE: "creds" })).toEqual([
      "GIT_CREDENTIALS_FILE: must be an absolute path",
    ]);
    expect(loadConfig({ GIT_CREDENTIALS_FILE: "/nonexistent/creds" }).env.GIT_CREDENTIALS_FILE).toBe(
      "/nonexistent/creds",
    );
  });

  it("hands the manager its options", () => {
    const { env } = loadConfig({
      WORKSPACE_ROOT: "/work",
      GIT_CREDENTIALS_FILE: "/etc/git/credentials",
      REPO_ALLOWLIST: "host:github.com",
      BASE_TTL_SECONDS: "60",
      WORKSPACE_MAX_BYTES: "16Gi",
    });
    expect(workspaceOptions(env)).toEqual({
      root: "/work",
      credentialsFile: "/etc/git/credentials",
      allowlist: env.REPO_ALLOWLIST,
      baseTtlMs: 60_000,
      maxBytes: 16 * 1024 ** 3,
      maintenanceIntervalMs: 60_000,
    });
    expect(workspaceOptions(loadConfig({}).env).maintenanceIntervalMs).toBe(600_000);
  });
});

describe("parseBytes", () => {
  it.each([
    ["1073741824", 1024 ** 3],
    ["20Gi", 20 * 1024 ** 3],
    ["20GiB", 20 * 1024 ** 3],
    ["512Mi", 512 * 1024 ** 2],
    ["1.5Ti", 1.5 * 1024 ** 4],
    ["64ki", 64 * 1024],
    [" 7 Gi ", 7 * 1024 ** 3],
  ])("%j is %d", (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  // Decimal units are refused rather than guessed: 20G is 20·10⁹ to Kubernetes and 20·2³⁰ to du.
  it.each(["", "0", "-1", "20G", "20GB", "20 gigs", "1e9", "Gi", "0.1"])("refuses %j", (text) => {
    expect(parseBytes(text)).toBeUndefined();
  });
});
