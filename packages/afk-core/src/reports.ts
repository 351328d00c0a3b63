import type { AgentReports, ProgressPhase } from "./types.js";

/**
 * The report lines the implementer prompt asks the agent to write, each alone on its own line.
 * Only phases the agent can know are reportable; CI and deploy come from the CI watcher.
 */
export const REPORT_LINES = {
  testsRed: "PHASE: tests-red",
  testsGreen: "PHASE: tests-green",
  pushed: "PUSHED <full commit sha>",
  blocked: "BLOCKED: <why a human is needed>",
} as const;

const PHASE_LINE = /^\s*PHASE:\s*(tests-red|tests-green)\s*$/gim;
const PUSHED_LINE = /^\s*PUSHED\s+([0-9a-f]{7,64})\s*$/gim;
const BLOCKED_LINE = /^\s*BLOCKED:\s*(\S.*?)\s*$/gim;

/** Reads the reports out of the agent's messages (oldest first); later reports win. */
export function parseReports(texts: readonly string[]): AgentReports {
  const reports: AgentReports = { phases: [], sha: null, blocked: null };
  for (const text of texts) {
    for (const m of text.matchAll(PHASE_LINE)) reports.phases.push(m[1]!.toLowerCase() as ProgressPhase);
    for (const m of text.matchAll(PUSHED_LINE)) reports.sha = m[1]!.toLowerCase();
    for (const m of text.matchAll(BLOCKED_LINE)) reports.blocked = m[1]!;
  }
  return reports;
}
