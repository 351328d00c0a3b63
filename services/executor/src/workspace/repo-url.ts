// scp-like syntax git accepts for ssh: `user@host:path`. The user part is required so a bare
// `host:path` (which git would also read as ssh) is not confused with a Windows drive or a typo.
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

/**
 * Why `url` is not a repository address we clone from, or `undefined` when it is one.
 * Accepted: `https://…`, `ssh://…`, `git@host:path`, `file:///abs/path` and absolute local paths.
 * Everything else is refused, in particular git's `ext::`/`fd::` transports (they run commands),
 * anything starting with `-` (git would read it as an option), and paths that could read as
 * another one (`..` segments, encoded separators, a query or fragment). Whether it carries
 * credentials or may be cloned here at all is the allowlist's business (`allowlist.ts`).
 */
export function repoUrlProblem(url: string): string | undefined {
  if (url.length === 0 || url.length > 2048) return "must be 1 to 2048 characters";
  if (hasControlCharacter(url)) return "must not contain control characters";
  if (url.startsWith("-")) return "must not start with '-'";
  if (url.startsWith("/")) return pathProblem(url);
  if (SCP_LIKE.test(url)) {
    const host = url.slice(url.indexOf("@") + 1, url.indexOf(":"));
    if (host.startsWith("-") || host.length === 0) return "has an invalid host";
    return pathProblem(url.slice(url.indexOf(":", url.indexOf("@")) + 1)) ?? urlCharactersProblem(url);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return "must be https://, ssh://, file://, user@host:path or an absolute path";
  if (scheme !== "https" && scheme !== "ssh" && scheme !== "file")
    return `scheme ${scheme}:// is not allowed`;
  // WHATWG URL would read `https:///x` as host `x`; git would not.
  if (scheme !== "file" && url.charAt(scheme.length + 3) === "/") return "has no host";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid URL";
  }
  if (/\s/.test(url)) return "must not contain whitespace";
  const characters = urlCharactersProblem(url);
  if (characters !== undefined) return characters;
  // The path as written: URL parsing would already have resolved `..`.
  const rawPath = url.slice(scheme.length + 3).replace(/^[^/]*/, "");
  if (scheme === "file") {
    if (url.includes("%")) return "file:// must not be percent-encoded (give the absolute path instead)";
    return parsed.host === "" && parsed.pathname.startsWith("/")
      ? pathProblem(rawPath)
      : "file:// must name a local path";
  }
  return HOSTNAME.test(parsed.hostname) ? pathProblem(rawPath) : "has an invalid host";
}

/**
 * A path that says one thing and means another: `.`/`..` segments (`…/acme/../evil`) or an encoded
 * separator would let an address pass an allowlist prefix it is not under.
 */
function pathProblem(path: string): string | undefined {
  return path.split("/").some((segment) => segment === "." || segment === "..")
    ? "must not contain '.' or '..' path segments"
    : undefined;
}

function urlCharactersProblem(url: string): string | undefined {
  if (/[?#]/.test(url)) return "must not contain '?' or '#'";
  if (url.includes("\\")) return "must not contain '\\'";
  if (/%(?:2e|2f|5c)/i.test(url)) return "must not percent-encode '.', '/' or '\\'";
  return undefined;
}

/** `text` (a URL, git's stderr) with every `scheme://user:secret@` in it redacted, for logs and errors. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
