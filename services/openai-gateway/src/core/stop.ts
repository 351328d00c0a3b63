/**
 * Stop sequences, applied to the agent's answer after the fact: the CLI has no such option. The
 * answer ends before the first occurrence of any of them, as OpenAI's does.
 */
export interface StopScanner {
  /** The part of `text` that can be sent now; text that may begin a stop sequence is held back. */
  push(text: string): string;
  /** What was held back, once the answer is complete (nothing if a stop sequence was found). */
  flush(): string;
  readonly stopped: boolean;
}

export function createStopScanner(stops: readonly string[]): StopScanner {
  const sequences = stops.filter((s) => s.length > 0);
  let held = "";
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    push(text) {
      if (stopped) return "";
      if (sequences.length === 0) return text;
      const buffer = held + text;
      const at = firstMatch(buffer, sequences);
      if (at !== undefined) {
        stopped = true;
        held = "";
        return buffer.slice(0, at);
      }
      const keep = heldBackLength(buffer, sequences);
      held = buffer.slice(buffer.length - keep);
      return buffer.slice(0, buffer.length - keep);
    },
    flush() {
      const out = stopped ? "" : held;
      held = "";
      return out;
    },
  };
}

/** A whole answer cut at its first stop sequence. */
export function truncateAtStop(text: string, stops: readonly string[]): string {
  const scanner = createStopScanner(stops);
  return scanner.push(text) + scanner.flush();
}

function firstMatch(buffer: string, sequences: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of sequences) {
    const i = buffer.indexOf(s);
    if (i >= 0 && (best === undefined || i < best)) best = i;
  }
  return best;
}

/** The longest end of `buffer` that is a proper beginning of some stop sequence. */
function heldBackLength(buffer: string, sequences: readonly string[]): number {
  let keep = 0;
  for (const s of sequences) {
    for (let k = Math.min(s.length - 1, buffer.length); k > keep; k--) {
      if (buffer.endsWith(s.slice(0, k))) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}
