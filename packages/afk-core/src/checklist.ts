import { encodeMarker } from "./marker.js";
import { type ProgressPhase, phaseRank, type RunMarker } from "./types.js";

export interface ChecklistOptions {
  deployConfigured: boolean;
  maxFixForwards: number;
}

const STEPS: ReadonlyArray<{ phase: ProgressPhase; label: string }> = [
  { phase: "dispatched", label: "Dispatched to a T3 Code thread" },
  { phase: "tests-red", label: "Failing tests written (red)" },
  { phase: "tests-green", label: "Tests green" },
  { phase: "pushed", label: "Pushed" },
  { phase: "ci-running", label: "CI running" },
  { phase: "ci-green", label: "CI green" },
  { phase: "deployed", label: "Deployed" },
];

/** Markdown inline code that survives backticks in the value. */
function code(value: string): string {
  return `\`${value.replaceAll("`", "'")}\``;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The furthest progress phase the run reached (for a finished run: all of them). */
function reached(marker: RunMarker, deployConfigured: boolean): ProgressPhase {
  if (marker.phase === "done") return deployConfigured ? "deployed" : "ci-green";
  if (marker.phase === "escalated") return marker.escalation?.from ?? "dispatched";
  return marker.phase;
}

function headline(marker: RunMarker): string {
  if (marker.phase === "done") return "done";
  if (marker.phase === "escalated") return "needs a human";
  return `in progress (${marker.phase})`;
}

/**
 * The run's progress checklist: one comment on the issue, rewritten on every phase change, with the
 * run marker (the state carried between ticks) as an invisible block at the end.
 */
export function renderChecklist(marker: RunMarker, options: ChecklistOptions): string {
  const upTo = phaseRank(reached(marker, options.deployConfigured));
  const lines = [`### AFK run: ${headline(marker)}`, ""];
  for (const step of STEPS) {
    if (step.phase === "deployed" && !options.deployConfigured) continue;
    const done = phaseRank(step.phase) <= upTo;
    let detail = "";
    if (step.phase === "dispatched") detail = ` (thread ${code(marker.threadId)})`;
    if (step.phase === "pushed" && marker.sha && done) detail = ` ${code(marker.sha.slice(0, 12))}`;
    lines.push(`- [${done ? "x" : " "}] ${step.label}${detail}`);
  }
  lines.push(`- [${marker.phase === "done" ? "x" : " "}] Done, issue closed`);
  lines.push("");
  lines.push(`Fix-forwards used: ${marker.fixForwards}/${options.maxFixForwards}.`);
  if (marker.lastCiFailure) {
    const checks = marker.lastCiFailure.checks.map(code).join(", ") || "unnamed checks";
    lines.push(`Last CI failure: ${checks} on ${code(marker.lastCiFailure.sha.slice(0, 12))}.`);
  }
  if (marker.escalation) lines.push(`**Escalated:** ${oneLine(marker.escalation.reason)}`);
  if (marker.t3Outage) {
    const { since, rang, reason } = marker.t3Outage;
    lines.push(
      `**T3 cannot be read** since ${since}${rang ? " (doorbell rung)" : ""}: ${code(oneLine(reason))}`,
    );
  }
  lines.push(`_Updated ${marker.updatedAt}._`);
  lines.push("");
  lines.push(encodeMarker(marker));
  return lines.join("\n");
}
