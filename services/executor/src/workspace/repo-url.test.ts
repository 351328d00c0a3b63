import { describe, expect, it } from "vitest";
import { redactCredentials, repoUrlProblem } from "./repo-url.js";

describe("repoUrlProblem", () => {
  it.each([
    "https://github.com/acme/app.git",
    "https://user:token@github.com/acme/app",
    "https://[::1]:8443/acme/app.git",
    "ssh://git@github.com/acme/app.git",
    "ssh://git@gitea.internal:2222/acme/app.git",
    "git@github.com:acme/app.git",
    "deploy_bot@git.example.org:team/app",
    "file:///srv/git/app.git",
    "/srv/git/app.git",
    "/tmp/with space/repo",
    "https://github.com/acme/.github",
    "https://github.com/acme/app..old",
    "git@github.com:/abs/app",
  ])("accepts %s", (url) => {
    expect(repoUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ["", "empty"],
    ["-uhttps://x", "an option"],
    ["--upload-pack=touch /tmp/pwned", "an option"],
    ["ext::sh -c touch% /tmp/pwned", "the ext transport"],
    ["fd::17", "the fd transport"],
    ["http://github.com/acme/app", "plain http"],
    ["git://github.com/acme/app", "the git protocol"],
    ["ftp://example.org/app", "ftp"],
    ["relative/path", "a relative path"],
    ["./app", "a relative path"],
    ["github.com:acme/app", "scp-like without a user"],
    ["git@-oProxyCommand=x:app", "a host that is an option"],
    ["file://remotehost/srv/app", "file:// with a host"],
    ["https://github.com/acme/app\n", "a newline"],
    ["https://git hub.com/app", "whitespace"],
    ["https:///no-host", "no host"],
    ["ssh://-oProxyCommand=x/app", "a host that is an option"],
    ["https://github.com/acme/../evil/app", "a '..' segment (an allowlist prefix it is not under)"],
    ["https://github.com/acme/./app", "a '.' segment"],
    ["https://github.com/acme/%2e%2e/evil", "an encoded '..'"],
    ["https://github.com/acme%2Fevil", "an encoded '/'"],
    ["https://github.com/acme/app?x=1", "a query"],
    ["https://github.com/acme/app#main", "a fragment"],
    ["https://github.com\\@evil.example/acme", "a backslash"],
    ["git@github.com:acme/../evil", "a '..' segment, scp-like"],
    ["git@github.com:../evil", "a leading '..', scp-like"],
    ["/srv/repos/../../etc", "a '..' segment in a path"],
    ["file:///srv/repos/../x", "a '..' segment in a file:// URL"],
    ["file:///srv/my%20repo", "percent-encoding in a file:// URL"],
    [`https://example.org/${"a".repeat(2048)}`, "too long"],
  ])("refuses %j (%s)", (url) => {
    expect(repoUrlProblem(url)).toBeTypeOf("string");
  });
});

describe("redactCredentials", () => {
  it.each([
    ["https://user:s3cret@github.com/a/b", "https://***@github.com/a/b"],
    ["https://x-access-token:ghs_abc@github.com/a/b.git", "https://***@github.com/a/b.git"],
    ["https://github.com/a/b", "https://github.com/a/b"],
    ["git@github.com:a/b", "git@github.com:a/b"],
    [
      "fatal: unable to access 'https://u:p@h.example/r/': Could not resolve host",
      "fatal: unable to access 'https://***@h.example/r/': Could not resolve host",
    ],
  ])("%s", (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });
});
