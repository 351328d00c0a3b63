/** What a look-up of a job's ref before it is queued found. */
export type RefCheck =
  | { status: "found" }
  /** Upstream (or the warm base, freshly looked at) has no such branch or tag: the job could only fail. */
  | { status: "missing"; detail: string }
  /** Nothing could tell in time (a commit id, an expression, upstream unreachable): the job finds out. */
  | { status: "unknown"; why: string };

/**
 * What an `ls-remote --heads --tags` listing says about `ref`, resolved the way the base resolves it
 * (`refs/<ref>`, `refs/heads/<ref>`, `refs/tags/<ref>`, or a full `refs/…` name). A listing names
 * only branch and tag tips, so a commit id (any run of hex digits) or an expression (`main~2`, `@`)
 * it does not name is unknown, never missing.
 */
export function refInListing(listing: string, ref: string): "found" | "missing" | "unknown" {
  const names = new Set<string>();
  for (const line of listing.split("\n")) {
    const name = line.split("\t")[1]?.trim();
    if (name) names.add(name.replace(/\^\{\}$/, ""));
  }
  const candidates = ref.startsWith("refs/")
    ? [ref]
    : [`refs/${ref}`, `refs/heads/${ref}`, `refs/tags/${ref}`];
  if (candidates.some((name) => names.has(name))) return "found";
  if (ref === "HEAD" || /^[0-9a-f]{4,64}$/i.test(ref) || /[~^@]/.test(ref)) return "unknown";
  return "missing";
}
