import { redactCredentials, repoUrlProblem } from "./repo-url.js";

/**
 * REPO_ALLOWLIST: which repositories jobs may clone. Entries are separated by commas or whitespace:
 *
 * - `https://host[:port]/path`: https URLs at or under that path;
 * - `ssh://[user@]host[:port]/path`: ssh:// URLs at or under it (any user when the entry names none);
 * - `user@host:path`: scp-like URLs (`git@github.com:acme/`) at or under it;
 * - `host:github.com`, `host:*.example.com`, `host:*`: any https, ssh:// or scp-like URL on that host
 *   (`*.` is one or more labels, never the domain itself; `*` is every host), any port and path;
 * - `file:///srv/repos/` or `/srv/repos/`: local repositories under that directory, as a `file://` URL
 *   or an absolute path alike. Nothing else allows a local repository, `host:*` included.
 *
 * Paths match on a segment boundary (`…/acme` allows `…/acme/app`, never `…/acme-evil/app`), a
 * trailing `.git` is ignored on both sides, hosts compare case-insensitively, paths and users
 * exactly. Unset or empty, nothing is allowed.
 */
export interface RepoAllowlist {
  readonly rules: readonly RepoRule[];
}

export type RepoRule =
  | { readonly kind: "host"; readonly entry: string; readonly pattern: string }
  | {
      readonly kind: "url";
      readonly entry: string;
      readonly family: NetworkFamily;
      readonly user: string | undefined;
      readonly host: string;
      readonly port: string;
      readonly path: string;
    }
  | { readonly kind: "local"; readonly entry: string; readonly path: string };

type NetworkFamily = "https" | "ssh" | "scp";

/** A repository address split into what rules compare. */
interface Location {
  family: NetworkFamily | "local";
  user: string | undefined;
  host: string;
  port: string;
  path: string;
}

export type RepoVerdict = { allowed: true; rule: string } | { allowed: false; why: string };

export const EMPTY_ALLOWLIST: RepoAllowlist = { rules: [] };

/** Parses REPO_ALLOWLIST; every bad entry is a problem, numbered from 1. */
export function parseRepoAllowlist(text: string | undefined): {
  allowlist: RepoAllowlist;
  problems: string[];
} {
  const rules: RepoRule[] = [];
  const problems: string[] = [];
  const entries = (text ?? "").split(/[\s,]+/).filter((e) => e !== "");
  entries.forEach((entry, i) => {
    const parsed = parseRule(entry);
    if (typeof parsed === "string") {
      problems.push(`entry ${i + 1} (${JSON.stringify(redactCredentials(entry))}): ${parsed}`);
    } else {
      rules.push(parsed);
    }
  });
  return { allowlist: { rules }, problems };
}

function parseRule(entry: string): RepoRule | string {
  if (/^host:/i.test(entry)) {
    const host = hostPattern(entry.slice("host:".length));
    return "problem" in host ? host.problem : { kind: "host", entry, pattern: host.pattern };
  }
  const problem = repoUrlProblem(entry);
  if (problem !== undefined) return problem;
  if (credentialsProblem(entry) !== undefined) return "must not carry credentials (a user:password@)";
  const location = locate(entry);
  if (typeof location === "string") return location;
  if (location.family === "local") return { kind: "local", entry, path: trimPath(location.path) };
  return {
    kind: "url",
    entry,
    family: location.family,
    user: location.user,
    host: location.host,
    port: location.port,
    path: trimPath(location.path),
  };
}

/** The host pattern, lower-cased (and IDNA-encoded) as URLs' hosts are, or why it is not one. */
function hostPattern(raw: string): { pattern: string } | { problem: string } {
  if (raw === "*") return { pattern: "*" };
  const wildcard = raw.startsWith("*.");
  const host = wildcard ? raw.slice(2) : raw;
  if (host === "" || host.includes("*")) {
    return { problem: "a host pattern is a host name, `*.` and a domain, or `*`" };
  }
  if (/[/:@?#%\\]/.test(host) && !/^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
    return { problem: "a host pattern is a bare host name (no scheme, port, user or path)" };
  }
  try {
    const normalized = new URL(`https://${host}/`).hostname;
    return { pattern: wildcard ? `*.${normalized}` : normalized };
  } catch {
    return { problem: "not a valid host name" };
  }
}

/**
 * Why `url` carries credentials the executor must not use, or `undefined`. A caller's URL never
 * brings its own: an https user (a token often goes there alone) or any password is refused.
 */
export function credentialsProblem(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return undefined; // scp-like `user@host:` names a login, never a secret
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // not a URL: repoUrlProblem says why
  }
  if (parsed.password !== "") return "carries a password or token (user:secret@)";
  if (parsed.username !== "" && scheme !== "ssh") return "carries a user or token before '@'";
  return undefined;
}

/** Whether `allowlist` lets jobs clone `repo` (an address `repoUrlProblem` accepts), and by which entry. */
export function checkRepo(allowlist: RepoAllowlist, repo: string): RepoVerdict {
  const location = locate(repo);
  if (typeof location === "string") return { allowed: false, why: location };
  if (allowlist.rules.length === 0) {
    return {
      allowed: false,
      why: "this executor allows no repositories: its REPO_ALLOWLIST is not set (e.g. REPO_ALLOWLIST=https://github.com/acme/)",
    };
  }
  for (const rule of allowlist.rules) {
    if (matches(rule, location)) return { allowed: true, rule: rule.entry };
  }
  if (location.family === "local") {
    return {
      allowed: false,
      why:
        "local paths and file:// URLs are allowed only under a directory REPO_ALLOWLIST names " +
        `(a file:///… or /… entry); entries: ${entriesOf(allowlist)}`,
    };
  }
  return {
    allowed: false,
    why: `${redactCredentials(repo)} is under no REPO_ALLOWLIST entry; entries: ${entriesOf(allowlist)}`,
  };
}

function entriesOf(allowlist: RepoAllowlist): string {
  return allowlist.rules.map((r) => r.entry).join(", ");
}

function matches(rule: RepoRule, at: Location): boolean {
  switch (rule.kind) {
    case "host":
      return at.family !== "local" && hostMatches(rule.pattern, at.host);
    case "local":
      return at.family === "local" && isUnder(rule.path, trimPath(at.path));
    case "url":
      return (
        at.family === rule.family &&
        at.host === rule.host &&
        at.port === rule.port &&
        (rule.user === undefined || rule.user === at.user) &&
        isUnder(rule.path, trimPath(at.path))
      );
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

/** `path` is `prefix` or inside it (both trimmed): a segment boundary, never a longer name. */
function isUnder(prefix: string, path: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Without trailing slashes and a trailing `.git`: `/acme/app.git/` and `/acme/app` are one repository. */
function trimPath(path: string): string {
  return path.replace(/\/+$/, "").replace(/([^/])\.git$/, "$1");
}

/** Splits an address `repoUrlProblem` accepts into family, user, host, port and path. */
function locate(url: string): Location | string {
  if (url.startsWith("/")) return { family: "local", user: undefined, host: "", port: "", path: url };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // scp-like `user@host:path` (repoUrlProblem made sure of the shape).
    const at = url.indexOf("@");
    const colon = url.indexOf(":", at);
    return {
      family: "scp",
      user: url.slice(0, at),
      host: url.slice(at + 1, colon).toLowerCase(),
      port: "",
      path: url.slice(colon + 1),
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid URL";
  }
  if (scheme === "file")
    return { family: "local", user: undefined, host: "", port: "", path: parsed.pathname };
  if (scheme !== "https" && scheme !== "ssh") return `scheme ${scheme}:// is not allowed`;
  return {
    family: scheme,
    user: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    host: parsed.hostname,
    // URL drops https' default port, not ssh's.
    port: scheme === "ssh" && parsed.port === "22" ? "" : parsed.port,
    path: parsed.pathname,
  };
}
