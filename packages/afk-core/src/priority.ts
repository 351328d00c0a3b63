import type { Priority } from "./types.js";

export const DEFAULT_PRIORITY: Priority = 2;

const PRIORITY_LABEL = /^P([0-3])$/i;

/** `P0`–`P3` label → priority; the most urgent wins when several are set; `P2` when none is. */
export function priorityFromLabels(labels: readonly string[]): Priority {
  let best: Priority | null = null;
  for (const label of labels) {
    const m = PRIORITY_LABEL.exec(label.trim());
    if (!m) continue;
    const p = Number(m[1]) as Priority;
    if (best === null || p < best) best = p;
  }
  return best ?? DEFAULT_PRIORITY;
}
