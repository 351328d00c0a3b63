import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import OpenAI from "openai";
import { describeMachine } from "../../../bench/lib/machine.js";
import { median, pairedDifferences, percentile } from "../../../bench/lib/stats.js";
import { formatTable } from "../../../bench/lib/table.js";
import type { RunningGateway } from "../src/start.js";
import { completion } from "./instant-executor.js";

export const TOKEN = "bench-token-0123456789";

/** A caller policy whose limits no run reaches: every request is checked and counted, none refused. */
export async function writeGenerousPolicy(
  dir: string,
  callers: Record<string, object> = {},
): Promise<string> {
  const path = join(dir, "policy.json");
  await writeFile(
    path,
    JSON.stringify({
      defaults: {
        agents: ["assistant"],
        models: ["claude-haiku-4-5"],
        maxConcurrent: 1000,
        requestsPerMinute: 1_000_000,
        budgetUsdPerDay: 1_000_000,
      },
      callers,
    }),
  );
  return path;
}

export const clientOf = (gw: RunningGateway) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0 });

/** The same completions through two gateways, interleaved in alternating order; milliseconds of each. */
export async function interleaved(
  on: OpenAI,
  off: OpenAI,
  runs: number,
  warmup: number,
): Promise<{ onMs: number[]; offMs: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await completion(on);
    await completion(off);
  }
  const onMs: number[] = [];
  const offMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      onMs.push(await completion(on));
      offMs.push(await completion(off));
    } else {
      offMs.push(await completion(off));
      onMs.push(await completion(on));
    }
  }
  return { onMs, offMs };
}

const row = (name: string, xs: number[]) => [name, median(xs), percentile(xs, 95), percentile(xs, 99)];

/** The table: off, on, and what "on" adds (paired differences), against a target at p50. */
export function printOnOff(opts: {
  title: string;
  setting: string;
  runs: number;
  labels: { off: string; on: string; added: string };
  onMs: number[];
  offMs: number[];
  targetMs: number;
}): void {
  const added = pairedDifferences(opts.onMs, opts.offMs);
  console.log(opts.title);
  console.log(`${opts.setting} · ${describeMachine()}`);
  console.log(`${opts.runs} non-streaming completions each through the openai SDK, interleaved\n`);
  console.log(
    formatTable(
      ["ms", "p50", "p95", "p99"],
      [row(opts.labels.off, opts.offMs), row(opts.labels.on, opts.onMs), row(opts.labels.added, added)],
      { decimals: 2 },
    ),
  );
  const ratio = median(opts.onMs) / median(opts.offMs);
  const addedP50 = median(added);
  console.log(
    `\np50 ratio on/off: ${ratio.toFixed(2)}× · added at p50: ${addedP50.toFixed(2)} ms ` +
      `(target ≤ ${opts.targetMs} ms: ${addedP50 <= opts.targetMs ? "met" : "NOT met"})`,
  );
}
