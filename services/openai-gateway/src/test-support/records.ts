import type { JobRecord } from "@claude-gateway/contracts";
import { USAGE } from "./fake-executor.js";

/** A job record in any state, for the pure cores' tests. */
export function jobRecord(patch: Partial<JobRecord> = {}): JobRecord {
  return {
    id: "oai-1",
    status: "succeeded",
    agent: "general",
    model: "claude-haiku-4-5",
    caller: "tester",
    submission: { id: "oai-1", agent: "general", prompt: "Hi" },
    queuedAt: "2026-01-01T00:00:00.000Z",
    attempts: 1,
    result: { text: "Hello there.", sessionId: "s", numTurns: 1, permissionDenials: 0 },
    usage: USAGE,
    costUsd: 0.01,
    ...patch,
  };
}

export function failedJob(status: JobRecord["status"], reason?: string, message?: string): JobRecord {
  const { result: _r, ...rest } = jobRecord();
  return {
    ...rest,
    status,
    ...(reason ? { error: { reason, message: message ?? `${reason} happened` } as JobRecord["error"] } : {}),
  };
}
