import { createHash, timingSafeEqual } from "node:crypto";
import type { AuthToken } from "./schema.js";

/**
 * Comparing fixed-size digests rather than the raw strings keeps `timingSafeEqual` from throwing on
 * a length mismatch, and so keeps the time from revealing the secret's length.
 */
function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Whether `presented` equals `secret`, in time independent of both. */
export function secretChecker(secret: string): (presented: string) => boolean {
  const expected = digest(secret);
  return (presented) => timingSafeEqual(digest(presented), expected);
}

/**
 * Finds the entry whose token equals `presented`. Checks every entry, without stopping at a match,
 * so the time taken does not reveal which entry matched or how many precede it.
 */
export function tokenFinder(tokens: readonly AuthToken[]): (presented: string) => AuthToken | undefined {
  const entries = tokens.map((entry) => ({ entry, expected: digest(entry.token) }));
  return (presented) => {
    const actual = digest(presented);
    let found: AuthToken | undefined;
    for (const { entry, expected } of entries) {
      if (timingSafeEqual(actual, expected)) found = entry;
    }
    return found;
  };
}
