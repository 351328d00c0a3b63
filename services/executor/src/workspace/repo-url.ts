// scp-like syntax git accepts for ssh: `user@host:path`. The user part is required so a bare
// `host:path` (which git would also read as ssh) is not confused with a Windows drive or a typo.
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

/**
 * Why `url` is not a repository address we clone from, or `undefined` when it is one.
 * Accepted: `https://…`, `ssh://…`, `git@host:path`, `file:///abs/path` and absolute local paths.
 * Everything else is refused, in particular git's `ext::`/`fd::` transports (they run commands)
 * and anything starting with `-` (git would read it as an option).
 */
export function repoUrlProblem(url: string): string | undefined {
  if (url.length === 0 || url.length > 2048) return "must be 1 to 2048 characters";
  if (hasControlCharacter(url)) return "must not contain control characters";
  if (url.startsWith("-")) return "must not start with '-'";
  if (url.startsWith("/")) return undefined;
  if (SCP_LIKE.test(url)) {
    const host = url.slice(url.indexOf("@") + 1, url.indexOf(":"));
    return host.startsWith("-") || host.length === 0 ? "has an invalid host" : undefined;
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
  if (scheme === "file") {
    return parsed.host === "" && parsed.pathname.startsWith("/")
      ? undefined
      : "file:// must name a local path";
  }
  return HOSTNAME.test(parsed.hostname) ? undefined : "has an invalid host";
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
