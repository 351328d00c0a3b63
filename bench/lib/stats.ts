/** Small descriptive statistics for benchmark samples (milliseconds, usually). */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError("no samples");
  return [...xs].sort((a, b) => a - b);
}

/**
 * The p-th percentile (0–100), interpolating linearly between the closest ranks (numpy's
 * default), so small samples still give a value between two observed ones.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0–100`);
  const s = sorted(xs);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo]!;
  const b = s[hi]!;
  return a + (b - a) * (rank - lo);
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("no samples");
  return xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

export function summarize(xs: readonly number[]): Summary {
  const s = sorted(xs);
  return {
    n: s.length,
    median: percentile(s, 50),
    p95: percentile(s, 95),
    min: s[0]!,
    max: s[s.length - 1]!,
    mean: mean(s),
  };
}

/** Element-wise `a[i] - b[i]`, for paired (interleaved) samples. */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`unpaired samples: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x - b[i]!);
}
