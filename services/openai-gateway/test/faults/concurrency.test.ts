import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { TEST_AUTH, tempDir, text } from "@claude-gateway/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, type World } from "../harness.js";
import { type GatewayProcess, spawnGateway, stopGateway } from "./gateway-process.js";
import { allJobRecords, markdownTable, percentile, unfinished } from "./support.js";

// Fault: an overload. 500 completions at once from one caller against an executor with 10 slots
// and room for 20 waiting jobs, the caller allowed 40 in flight: what is not admitted must be
// refused with a clean 429 and a Retry-After (by the caller policy or by the executor's full
// queue), never a 5xx or a hang.
const REQUESTS = 500;
const IN_FLIGHT = 40;
const ANSWER = "The scripted answer, under load.";

let world: World;
let gateway: GatewayProcess;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const dir = await tempDir("cg-oai-load-");
  cleanup = dir.cleanup;
  const policy = join(dir.dir, "policy.json");
  const limits = { maxConcurrent: IN_FLIGHT, requestsPerMinute: 100_000, budgetUsdPerDay: 100_000 };
  await writeFile(
    policy,
    JSON.stringify({ defaults: { agents: ["assistant"], models: [...DEFAULT_SUPPORTED_MODELS], ...limits } }),
    // A service secret: an isolated executor refuses a policy others may read.
    { mode: 0o600 },
  );
  world = await createWorld({ MAX_CONCURRENCY: "10", MAX_QUEUE_DEPTH: "20", CALLER_POLICY_FILE: policy });
  world.stub.setDefault(text(ANSWER));
  gateway = await spawnGateway(world);
});
afterAll(async () => {
  if (gateway) await stopGateway(gateway.child);
  await world?.close();
  await cleanup?.();
});

interface Outcome {
  status: number;
  wallMs: number;
  retryAfter: string | null;
  jobId: string | null;
  content?: string | undefined;
  code?: string | undefined;
  /** A transport failure (no HTTP answer). */
  error?: string;
}

async function complete(i: number): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: TEST_AUTH,
      body: JSON.stringify({
        model: "claude-haiku-4-5",
        messages: [{ role: "user", content: `Request ${i}` }],
      }),
    });
    const body = (await res.json()) as {
      choices?: { message?: { content?: string } }[];
      error?: { code?: string };
    };
    return {
      status: res.status,
      wallMs: performance.now() - started,
      retryAfter: res.headers.get("retry-after"),
      jobId: res.headers.get("x-job-id"),
      content: body.choices?.[0]?.message?.content,
      code: body.error?.code,
    };
  } catch (err) {
    return {
      status: 0,
      wallMs: performance.now() - started,
      retryAfter: null,
      jobId: null,
      error: String(err),
    };
  }
}

describe("500 completions at once against 10 slots, a queue of 20 and 40 in flight per caller", () => {
  it("each is a 200 with the answer or a 429 with Retry-After; no 5xx; every admitted job ends", async () => {
    const outcomes = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => complete(i)));

    const byStatus = new Map<string, number>();
    for (const o of outcomes) {
      const key = o.status === 0 ? `no answer (${o.error})` : `${o.status}${o.code ? ` ${o.code}` : ""}`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 429);

    // Every job the executor took ended, and each is one of the 200s: none ran for a refused client.
    const records = await allJobRecords(world.nc);
    expect(unfinished(records)).toEqual([]);
    const recordById = new Map(records.map((r) => [r.id, r]));
    const added = ok.map((o) => {
      const job = recordById.get(o.jobId ?? "");
      return job?.finishedAt
        ? o.wallMs - (Date.parse(job.finishedAt) - Date.parse(job.queuedAt))
        : Number.NaN;
    });
    const ms = (n: number) => (Number.isNaN(n) ? "–" : Math.round(n));
    console.log(
      `${REQUESTS} concurrent completions, MAX_CONCURRENCY=10, MAX_QUEUE_DEPTH=20, maxConcurrent=${IN_FLIGHT}:\n${markdownTable(
        ["outcome", "count"],
        [...byStatus].sort().map(([k, n]) => [k, n]),
      )}\n\n${markdownTable(
        ["latency", "p50 ms", "p99 ms"],
        [
          [
            "200: client wall time",
            ms(
              percentile(
                ok.map((o) => o.wallMs),
                50,
              ),
            ),
            ms(
              percentile(
                ok.map((o) => o.wallMs),
                99,
              ),
            ),
          ],
          [
            "200: added by the gateway (wall − job queued→finished)",
            ms(percentile(added, 50)),
            ms(percentile(added, 99)),
          ],
          [
            "429: client wall time",
            ms(
              percentile(
                refused.map((o) => o.wallMs),
                50,
              ),
            ),
            ms(
              percentile(
                refused.map((o) => o.wallMs),
                99,
              ),
            ),
          ],
        ],
      )}`,
    );

    // Only 200s and 429s (a count per other status would show here).
    expect([...byStatus.keys()].filter((k) => !/^(200|429)\b/.test(k))).toEqual([]);
    expect(ok.length + refused.length).toBe(REQUESTS);
    // The slots and the queue were full at some point, and whatever was admitted got its answer.
    expect(refused.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(ok.every((o) => o.content === ANSWER)).toBe(true);
    for (const o of refused) expect(Number(o.retryAfter)).toBeGreaterThan(0);
    expect(records).toHaveLength(ok.length);
    expect(records.every((r) => r.status === "succeeded")).toBe(true);
    expect(new Set(ok.map((o) => o.jobId))).toEqual(new Set(records.map((r) => r.id)));
    expect(gateway.errors).toEqual([]);
    await world.noCliLeft();
  }, 240_000);
});
