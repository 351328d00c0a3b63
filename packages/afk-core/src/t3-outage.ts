import type { RunMarker, T3Outage } from "./types.js";

export interface T3OutageInput {
  /** What the run's marker carries (absent in markers written before outages were tracked). */
  outage: T3Outage | null | undefined;
  /** Why T3 could not be read this tick; null when it answered within its contract. */
  failure: string | null;
  now: string;
  /** `AFK_T3_UNREACHABLE_MINUTES`. */
  limitMinutes: number;
}

export type T3OutageStep =
  | { outage: null; ring: null }
  | { outage: T3Outage; ring: { reason: string; minutes: number } | null };

/**
 * One tick of a run's view of T3: an answer ends any outage; a failure starts one or carries it on,
 * and the doorbell rings once per outage, on the first tick at least `limitMinutes` after it began.
 * The reason is the latest failure (what a human would find if they looked now).
 */
export function t3OutageStep(
  input: T3OutageInput & { failure: string },
): Extract<T3OutageStep, { outage: T3Outage }>;
export function t3OutageStep(input: T3OutageInput): T3OutageStep;
export function t3OutageStep(input: T3OutageInput): T3OutageStep {
  const { failure, now, limitMinutes } = input;
  if (failure === null) return { outage: null, ring: null };
  const since = input.outage?.since ?? now;
  const rang = input.outage?.rang ?? false;
  const minutes = Math.floor((Date.parse(now) - Date.parse(since)) / 60_000);
  const due = !rang && minutes >= limitMinutes;
  const outage: T3Outage = { since, rang: rang || due, reason: failure };
  if (!due) return { outage, ring: null };
  const reason = `T3 unreachable or answering outside its contract for ${minutes} minutes (limit ${limitMinutes}): ${failure}`;
  return { outage, ring: { reason, minutes } };
}

/** The marker with this outage state; the very same marker when nothing changed (nothing to write). */
export function withT3Outage(marker: RunMarker, outage: T3Outage | null, now: string): RunMarker {
  const current = marker.t3Outage ?? null;
  const same =
    current === outage ||
    (current !== null &&
      outage !== null &&
      current.since === outage.since &&
      current.rang === outage.rang &&
      current.reason === outage.reason);
  return same ? marker : { ...marker, t3Outage: outage, updatedAt: now };
}
