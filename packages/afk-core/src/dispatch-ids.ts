import { createHash } from "node:crypto";
import type { Issue } from "./types.js";

/** A fixed, random namespace for the ids of AFK dispatches (name-based UUIDs, RFC 9562 v5). */
const NAMESPACE = Buffer.from("8f4f2f0e5a7c4c1b9d3e6a2b1c0d9e8f", "hex");

/**
 * The key of one dispatch attempt of an issue: the same issue and attempt always give the same key,
 * so every id and `commandId` derived from it is the same when a dispatch is retried — in the same
 * tick after a lost answer, or in the next one — and T3 answers a resent command with the sequence
 * it recorded instead of starting a second thread. `attempt` counts the runs already recorded on the
 * issue (a re-queued issue gets a new attempt, so a new thread).
 */
export function dispatchKey(issue: Pick<Issue, "repo" | "number">, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be ≥ 1, got ${attempt}`);
  return `${issue.repo}#${issue.number}/attempt-${attempt}`;
}

/** One id of a dispatch (`thread`, `thread.create`, `message`, …): a UUID named by the key and the part. */
export function dispatchId(key: string, part: string): string {
  const hash = createHash("sha1").update(NAMESPACE).update(`${key}\u0000${part}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
