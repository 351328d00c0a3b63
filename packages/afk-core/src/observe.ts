import { messagesAfter, threadLiveness } from "./liveness.js";
import { parseReports } from "./reports.js";
import type { Observation, SentTurn, ThreadView } from "./types.js";

/**
 * What a thread says about the loop's last turn: liveness, and the reports in the agent's messages
 * after it. A deleted or missing thread is null.
 */
export function observeThread(thread: ThreadView | null, turn: SentTurn): Observation["thread"] {
  if (!thread || thread.deletedAt !== null) return null;
  const answers = messagesAfter(thread, turn).filter((m) => m.role === "assistant");
  return { liveness: threadLiveness(thread, turn), reports: parseReports(answers.map((m) => m.text)) };
}
