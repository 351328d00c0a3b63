import { createHash } from "node:crypto";

/** Job ids name a directory under `jobs/`: nothing that could climb out of it. */
export const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidJobId(jobId: string): boolean {
  return JOB_ID.test(jobId);
}

/**
 * The directory name of a repository's base clone under `bases/`: a prefix of the SHA-256 of the
 * URL exactly as given. A hash keeps any URL (slashes, credentials, `..`) out of the path; 16 hex
 * digits (64 bits) make a collision between a volume's handful of repositories negligible.
 */
export function baseDirName(repoUrl: string): string {
  return createHash("sha256").update(repoUrl).digest("hex").slice(0, 16);
}

/**
 * Why `ref` is not something we resolve, or `undefined`. A branch, tag or (abbreviated) commit
 * sha; also anything `git rev-parse` understands (`main~2`), but never an option (`-…`), a range
 * or a reflog/`@{…}` expression, so what we pass to git is always read as one revision.
 */
export function refProblem(ref: string): string | undefined {
  if (ref.length === 0 || ref.length > 255) return "must be 1 to 255 characters";
  if (ref.startsWith("-")) return "must not start with '-'";
  if (/[\0-\x20\x7f]/.test(ref)) return "must not contain whitespace or control characters";
  if (ref.includes("..")) return "must not contain '..'";
  if (ref.includes("@{")) return "must not contain '@{'";
  if (/[:?*[\\]/.test(ref)) return "must not contain ':', '?', '*', '[' or '\\'";
  return undefined;
}

/** A full commit sha (SHA-1 or SHA-256): immutable, so no refresh is needed when the base has it. */
export function isFullSha(ref: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}
