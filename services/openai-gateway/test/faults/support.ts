import { buckets, isTerminal, JobRecord } from "@claude-gateway/contracts";
import { kvStreamName } from "@claude-gateway/nats";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

/**
 * Every job record the executor holds, read from its KV bucket's stream (one subject per key):
 * what a test counts to say no job was made that the client does not know of.
 */
export async function allJobRecords(nc: NatsConnection): Promise<JobRecord[]> {
  const jsm = await jetstreamManager(nc);
  const stream = kvStreamName(buckets.jobs);
  const info = await jsm.streams.info(stream, { subjects_filter: ">" });
  const keys = Object.keys(info.state.subjects ?? {});
  const records = await Promise.all(
    keys.map(async (subject) => {
      const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
      return msg && msg.data.length > 0 ? JobRecord.parse(msg.json()) : undefined;
    }),
  );
  return records.filter((r): r is JobRecord => r !== undefined);
}

/** Records not yet in a final state. */
export const unfinished = (records: JobRecord[]) => records.filter((r) => !isTerminal(r.status));

/** The nearest-rank percentile of `values` (0 < p ≤ 100); NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A markdown table, for timings a test prints rather than asserts. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
