import type { JobRecord, ToolResults } from "@claude-gateway/contracts";
import { ServiceUnavailableError } from "@claude-gateway/nats";
import { describe, expect, it } from "vitest";
import {
  createToolHolds,
  supplyHeldToolResults,
  supplyToolResults,
  type ToolResultsRouting,
} from "./tool-results.js";

const pending = {
  calls: [{ id: "toolu_1", name: "get_weather", input: {} }],
  text: "",
  seq: 4,
  at: "2026-12-05T00:00:00.000Z",
  expiresAt: "2026-12-05T00:05:00.000Z",
};
const job = (over: Partial<JobRecord> = {}): JobRecord =>
  ({
    id: "job-1",
    status: "running",
    agent: "assistant",
    model: "m",
    caller: "tok_alice",
    submission: { agent: "assistant", prompt: "p" },
    queuedAt: "2026-12-05T00:00:00.000Z",
    attempts: 1,
    executor: "replica-b",
    toolCalls: pending,
    ...over,
  }) as JobRecord;
const results = [{ id: "toolu_1", content: "sunny" }];

function routing(over: Partial<ToolResultsRouting> = {}) {
  const forwarded: Array<{ to: string; req: ToolResults }> = [];
  const r: ToolResultsRouting = {
    holds: createToolHolds(),
    executorId: "replica-a",
    forward: async (to, req) => {
      forwarded.push({ to, req });
      return { afterSeq: 4 };
    },
    ...over,
  };
  return { r, forwarded };
}

describe("routing a caller's tool results", () => {
  it("answers a hold of this replica itself", async () => {
    const { r, forwarded } = routing();
    const supplied: unknown[] = [];
    r.holds.hold("job-1", {
      caller: "tok_alice",
      supply: async (res) => {
        supplied.push(res);
        return { afterSeq: 4 };
      },
    });
    expect(r.holds.size).toBe(1);
    await expect(supplyToolResults(r, job({ executor: "replica-a" }), results)).resolves.toEqual({
      afterSeq: 4,
    });
    expect(supplied).toEqual([results]);
    expect(forwarded).toEqual([]);
  });

  it("forwards to the replica the record names, with the job's owner", async () => {
    const { r, forwarded } = routing();
    await expect(supplyToolResults(r, job(), results)).resolves.toEqual({ afterSeq: 4 });
    expect(forwarded).toEqual([{ to: "replica-b", req: { id: "job-1", caller: "tok_alice", results } }]);
  });

  it("says why a job takes no results: ended, expired, not paused, or its holder gone", async () => {
    const { r } = routing();
    await expect(supplyToolResults(r, job({ status: "succeeded" }), results)).rejects.toMatchObject({
      status: 409,
      code: "job_finished",
    });
    const expired = job({
      status: "failed",
      error: { reason: "tool_results_expired", message: "the calls of get_weather waited 300 s" },
    });
    await expect(supplyToolResults(r, expired, results)).rejects.toMatchObject({
      status: 409,
      code: "tool_calls_expired",
      message: expect.stringContaining("get_weather waited 300 s"),
    });
    const notPaused = job({ toolCalls: undefined });
    await expect(supplyToolResults(r, notPaused, results)).rejects.toMatchObject({
      status: 409,
      code: "not_waiting_for_tool_results",
    });
    // The record says this replica holds it, but no hold is here (answered meanwhile).
    await expect(supplyToolResults(r, job({ executor: "replica-a" }), results)).rejects.toMatchObject({
      code: "not_waiting_for_tool_results",
    });
    const gone = routing({
      forward: () => Promise.reject(new ServiceUnavailableError("agent.v1.control.tools.replica-b")),
    });
    await expect(supplyToolResults(gone.r, job(), results)).rejects.toMatchObject({
      status: 503,
      code: "tool_calls_holder_gone",
    });
  });

  it("a forwarded request is answered only by a hold of the job's owner", async () => {
    const holds = createToolHolds();
    const release = holds.hold("job-1", { caller: "tok_alice", supply: async () => ({ afterSeq: 9 }) });
    await expect(
      supplyHeldToolResults(holds, { id: "job-1", caller: "tok_alice", results }),
    ).resolves.toEqual({
      afterSeq: 9,
    });
    await expect(
      supplyHeldToolResults(holds, { id: "job-1", caller: "tok_mallory", results }),
    ).rejects.toMatchObject({ status: 409 });
    release();
    release();
    expect(holds.size).toBe(0);
    await expect(
      supplyHeldToolResults(holds, { id: "job-1", caller: "tok_alice", results }),
    ).rejects.toMatchObject({ code: "not_waiting_for_tool_results" });
  });

  it("a released hold never removes a newer hold of the same job", () => {
    const holds = createToolHolds();
    const first = holds.hold("job-1", { caller: "a", supply: async () => ({ afterSeq: 1 }) });
    holds.hold("job-1", { caller: "a", supply: async () => ({ afterSeq: 2 }) });
    first();
    expect(holds.size).toBe(1);
  });
});
