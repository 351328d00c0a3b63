import { z } from "zod";
import { PROGRESS_PHASES, type RunMarker } from "./types.js";

const ProgressPhaseSchema = z.enum(PROGRESS_PHASES);
const Iso = z.iso.datetime({ offset: true });

/** The run state carried between ticks; versioned so a later format can be told apart. */
export const RunMarkerSchema = z.object({
  v: z.literal(1),
  repo: z.string().min(1),
  issue: z.number().int().positive(),
  projectId: z.string().min(1),
  threadId: z.string().min(1),
  phase: z.union([ProgressPhaseSchema, z.literal("done"), z.literal("escalated")]),
  phaseSince: Iso,
  dispatchedAt: Iso,
  fixForwards: z.number().int().min(0),
  turn: z.object({
    messageId: z.string().min(1),
    sentAt: Iso,
    baselineTurnId: z.string().min(1).nullable(),
  }),
  sha: z.string().min(1).nullable(),
  lastCiFailure: z.object({ sha: z.string().min(1), checks: z.array(z.string()) }).nullable(),
  escalation: z.object({ reason: z.string(), from: ProgressPhaseSchema }).nullable(),
  // Optional: markers written before outages were tracked still decode.
  t3Outage: z.object({ since: Iso, rang: z.boolean(), reason: z.string() }).nullable().optional(),
  updatedAt: Iso,
});

const OPEN = "<!-- afk-state:v1 ";
const CLOSE = " -->";
const BLOCK = /<!-- afk-state:v1 (.*?) -->/s;

/**
 * The marker as an HTML comment (invisible in rendered markdown). JSON can only contain `--` or `<`
 * inside strings, where `\u` escapes are equivalent, so the comment can never be closed early.
 */
export function encodeMarker(marker: RunMarker): string {
  const json = JSON.stringify(RunMarkerSchema.parse(marker))
    .replaceAll("--", "-\\u002d")
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e");
  return `${OPEN}${json}${CLOSE}`;
}

/** Whether a comment carries a run marker (well-formed or not). */
export function hasMarker(text: string): boolean {
  return text.includes(OPEN);
}

export class MarkerDecodeError extends Error {
  override readonly name = "MarkerDecodeError";
}

/** The marker in a comment; null when there is none; throws when there is one but it is corrupt. */
export function decodeMarker(text: string): RunMarker | null {
  const m = BLOCK.exec(text);
  if (!m) {
    if (hasMarker(text)) throw new MarkerDecodeError("run marker is not terminated");
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(m[1]!);
  } catch (err) {
    throw new MarkerDecodeError("run marker is not JSON", { cause: err });
  }
  const parsed = RunMarkerSchema.safeParse(json);
  if (!parsed.success) {
    throw new MarkerDecodeError(
      `run marker is invalid: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`,
    );
  }
  return parsed.data;
}

/** The run marker of the latest comment that has one (a re-queued issue gets a new comment per run). */
export function latestMarker<C extends { body: string }>(
  comments: readonly C[],
): { comment: C; marker: RunMarker } | null {
  for (let i = comments.length - 1; i >= 0; i--) {
    const comment = comments[i]!;
    const marker = decodeMarker(comment.body);
    if (marker) return { comment, marker };
  }
  return null;
}
