import { describe, expect, it } from "vitest";
import { checkRepo, credentialsProblem, parseRepoAllowlist, type RepoAllowlist } from "./allowlist.js";

function allowlist(text: string): RepoAllowlist {
  const { allowlist, problems } = parseRepoAllowlist(text);
  expect(problems).toEqual([]);
  return allowlist;
}

const allowedBy = (list: string, repo: string) => {
  const verdict = checkRepo(allowlist(list), repo);
  return verdict.allowed ? verdict.rule : undefined;
};

describe("parseRepoAllowlist", () => {
  it("reads entries separated by commas, whitespace and newlines", () => {
    const { allowlist: parsed, problems } = parseRepoAllowlist(
      " https://github.com/acme/ ,host:gitlab.example.com\n  git@github.com:acme/\t/srv/repos ,, ",
    );
    expect(problems).toEqual([]);
    expect(parsed.rules.map((r) => r.entry)).toEqual([
      "https://github.com/acme/",
      "host:gitlab.example.com",
      "git@github.com:acme/",
      "/srv/repos",
    ]);
  });

  it.each([undefined, "", " , \n"])("unset or empty (%j) allows nothing", (text) => {
    const { allowlist: parsed, problems } = parseRepoAllowlist(text);
    expect(problems).toEqual([]);
    expect(parsed.rules).toEqual([]);
  });

  it("normalizes what it compares: hosts lower-cased, default ports, trailing slashes and .git", () => {
    expect(allowlist("https://GitHub.COM:443/Acme/app.git/").rules).toEqual([
      {
        kind: "url",
        entry: "https://GitHub.COM:443/Acme/app.git/",
        family: "https",
        user: undefined,
        host: "github.com",
        port: "",
        path: "/Acme/app",
      },
    ]);
    expect(allowlist("host:*.Example.COM ssh://git@h:22/x file:///srv/r/").rules).toEqual([
      { kind: "host", entry: "host:*.Example.COM", pattern: "*.example.com" },
      { kind: "url", entry: "ssh://git@h:22/x", family: "ssh", user: "git", host: "h", port: "", path: "/x" },
      { kind: "local", entry: "file:///srv/r/", path: "/srv/r" },
    ]);
  });

  it("lists every bad entry, numbered, and keeps the good ones", () => {
    const { allowlist: parsed, problems } = parseRepoAllowlist(
      "https://github.com/acme/,http://insecure.example/x,host:,host:a*.example.com,host:github.com/acme," +
        "host:github.com:22,https://bot:secret@github.com/acme/,https://token@github.com/x,ext::sh,relative/dir," +
        "https://github.com/acme/../evil,ftp://h/x",
    );
    expect(parsed.rules.map((r) => r.entry)).toEqual(["https://github.com/acme/"]);
    expect(problems).toEqual([
      'entry 2 ("http://insecure.example/x"): scheme http:// is not allowed',
      'entry 3 ("host:"): a host pattern is a host name, `*.` and a domain, or `*`',
      'entry 4 ("host:a*.example.com"): a host pattern is a host name, `*.` and a domain, or `*`',
      'entry 5 ("host:github.com/acme"): a host pattern is a bare host name (no scheme, port, user or path)',
      'entry 6 ("host:github.com:22"): a host pattern is a bare host name (no scheme, port, user or path)',
      'entry 7 ("https://***@github.com/acme/"): must not carry credentials (a user:password@)',
      'entry 8 ("https://***@github.com/x"): must not carry credentials (a user:password@)',
      'entry 9 ("ext::sh"): must be https://, ssh://, file://, user@host:path or an absolute path',
      'entry 10 ("relative/dir"): must be https://, ssh://, file://, user@host:path or an absolute path',
      "entry 11 (\"https://github.com/acme/../evil\"): must not contain '.' or '..' path segments",
      'entry 12 ("ftp://h/x"): scheme ftp:// is not allowed',
    ]);
  });
});

describe("checkRepo", () => {
  it("allows nothing when unset, and says which variable to set", () => {
    const verdict = checkRepo(allowlist(""), "https://github.com/acme/app");
    expect(verdict).toEqual({ allowed: false, why: expect.stringContaining("REPO_ALLOWLIST is not set") });
  });

  describe("https prefixes", () => {
    const list = "https://github.com/acme";
    it.each([
      ["https://github.com/acme", true],
      ["https://github.com/acme/", true],
      ["https://github.com/acme/app", true],
      ["https://github.com/acme/app.git", true],
      ["https://github.com/acme/team/app.git", true],
      ["https://GITHUB.com/acme/app", true], // hosts compare case-insensitively
      ["https://github.com:443/acme/app", true], // the default port is no port
      ["https://github.com/acme-evil/app", false], // a path boundary, never a longer name
      ["https://github.com/acmeevil", false],
      ["https://github.com/Acme/app", false], // paths compare exactly
      ["https://github.com/other/acme", false],
      ["https://github.com", false],
      ["https://github.com:8443/acme/app", false], // another port
      ["https://github.com.evil.example/acme/app", false],
      ["https://evil.example/github.com/acme/app", false],
      ["ssh://git@github.com/acme/app", false], // another scheme
      ["git@github.com:acme/app", false],
      ["/github.com/acme/app", false],
    ])("%s → %s", (repo, allowed) => {
      expect(allowedBy(list, repo) !== undefined).toBe(allowed);
    });

    it("an entry naming one repository allows it with or without .git, not its siblings", () => {
      const one = "https://github.com/acme/app.git";
      expect(allowedBy(one, "https://github.com/acme/app")).toBe(one);
      expect(allowedBy(one, "https://github.com/acme/app.git")).toBe(one);
      expect(allowedBy(one, "https://github.com/acme/app-tools")).toBeUndefined();
      expect(allowedBy(one, "https://github.com/acme/app.github.io")).toBeUndefined();
    });

    it("a host's root allows the whole host, on its port only", () => {
      expect(allowedBy("https://git.example.com/", "https://git.example.com/a/b")).toBeDefined();
      expect(allowedBy("https://git.example.com:8443/", "https://git.example.com:8443/a")).toBeDefined();
      expect(allowedBy("https://git.example.com:8443/", "https://git.example.com/a")).toBeUndefined();
    });
  });

  describe("ssh and scp-like", () => {
    it.each([
      ["ssh://git@github.com/acme/", "ssh://git@github.com/acme/app.git", true],
      ["ssh://git@github.com/acme/", "ssh://git@github.com:22/acme/app.git", true],
      ["ssh://git@github.com/acme/", "ssh://deploy@github.com/acme/app.git", false], // the entry names a user
      ["ssh://github.com/acme/", "ssh://deploy@github.com/acme/app.git", true], // the entry names none
      ["ssh://git@github.com/acme/", "ssh://git@github.com:2222/acme/app.git", false],
      ["ssh://git@github.com/acme/", "git@github.com:acme/app.git", false], // scp-like is its own family
      ["git@github.com:acme/", "git@github.com:acme/app.git", true],
      ["git@github.com:acme/", "git@GitHub.com:acme/app.git", true],
      ["git@github.com:acme", "git@github.com:acme-evil/app.git", false],
      ["git@github.com:acme/", "deploy@github.com:acme/app.git", false],
      ["git@github.com:acme/", "ssh://git@github.com/acme/app.git", false],
    ])("%s allows %s: %s", (entry, repo, allowed) => {
      expect(allowedBy(entry, repo) !== undefined).toBe(allowed);
    });
  });

  describe("host patterns", () => {
    it.each([
      ["host:github.com", "https://github.com/anyone/app", true],
      ["host:github.com", "https://GitHub.com:8443/anyone/app", true], // any port
      ["host:github.com", "ssh://git@github.com/x", true],
      ["host:github.com", "git@github.com:x/y", true],
      ["host:github.com", "https://api.github.com/x", false],
      ["host:github.com", "https://github.com.evil.example/x", false],
      ["host:GitHub.COM", "https://github.com/x", true],
      ["host:*.example.com", "https://git.example.com/x", true],
      ["host:*.example.com", "https://a.b.example.com/x", true],
      ["host:*.example.com", "https://example.com/x", false], // the domain itself is not a subdomain
      ["host:*.example.com", "https://evilexample.com/x", false],
      ["host:*.example.com", "https://example.com.evil.example/x", false],
      ["host:*", "https://anything.example/x", true],
      ["host:[::1]", "https://[::1]:8443/x", true],
      ["host:127.0.0.1", "https://127.0.0.1:8443/x", true],
    ])("%s allows %s: %s", (entry, repo, allowed) => {
      expect(allowedBy(entry, repo) !== undefined).toBe(allowed);
    });

    it("never allows a local repository, even `host:*`", () => {
      for (const repo of ["/srv/repos/app", "file:///srv/repos/app"]) {
        const verdict = checkRepo(allowlist("host:*"), repo);
        expect(verdict).toEqual({
          allowed: false,
          why: expect.stringContaining("local paths and file:// URLs are allowed only under a directory"),
        });
      }
    });
  });

  describe("local repositories", () => {
    it.each([
      ["/srv/repos/", "/srv/repos/app", true],
      ["/srv/repos", "/srv/repos/app.git", true],
      ["/srv/repos/", "file:///srv/repos/app", true], // a file:// URL and a path are the same thing
      ["file:///srv/repos/", "/srv/repos/team/app", true],
      ["file:///srv/repos", "file:///srv/repos/app", true],
      ["/srv/repos/", "/srv/repos-evil/app", false],
      ["/srv/repos/", "/srv/other/app", false],
      ["/srv/repos/", "/srv", false],
      ["/srv/repos/", "https://srv/repos/app", false],
    ])("%s allows %s: %s", (entry, repo, allowed) => {
      expect(allowedBy(entry, repo) !== undefined).toBe(allowed);
    });
  });

  it("names the entry that allowed, the first that matches", () => {
    expect(
      checkRepo(
        allowlist("host:gitlab.com,https://github.com/acme/,host:github.com"),
        "https://github.com/acme/app",
      ),
    ).toEqual({
      allowed: true,
      rule: "https://github.com/acme/",
    });
  });

  it("says why not, with the entries, never a credential", () => {
    const verdict = checkRepo(
      allowlist("https://github.com/acme/,host:gitlab.com"),
      "https://u:p@github.com/acme-evil/x",
    );
    expect(verdict).toEqual({
      allowed: false,
      why: "https://***@github.com/acme-evil/x is under no REPO_ALLOWLIST entry; entries: https://github.com/acme/, host:gitlab.com",
    });
  });
});

describe("credentialsProblem", () => {
  it.each([
    ["https://github.com/acme/app", undefined],
    ["https://user:token@github.com/acme/app", "carries a password or token (user:secret@)"],
    ["https://ghp_abcdef@github.com/acme/app", "carries a user or token before '@'"],
    ["https://:token@github.com/acme/app", "carries a password or token (user:secret@)"],
    ["ssh://git@github.com/acme/app", undefined], // a login name, not a secret
    ["ssh://git:pw@github.com/acme/app", "carries a password or token (user:secret@)"],
    ["git@github.com:acme/app", undefined],
    ["/srv/repos/app", undefined],
  ])("%s", (url, problem) => {
    expect(credentialsProblem(url)).toBe(problem);
  });
});
