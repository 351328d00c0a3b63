import type { Liveness, SentTurn, ThreadView } from "./types.js";

type Message = NonNullable<ThreadView["messages"]>[number];

/**
 * The messages after the one the loop sent, in `createdAt` order. When the sent message is not in
 * the list (messages windowed or not yet projected), those created after the send time.
 */
export function messagesAfter(thread: ThreadView, sent: SentTurn): Message[] {
  const messages = [...(thread.messages ?? [])].sort(
    (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt),
  );
  const at = messages.findIndex((m) => m.id === sent.messageId);
  if (at >= 0) return messages.slice(at + 1);
  const sentAt = Date.parse(sent.sentAt);
  return messages.filter((m) => Date.parse(m.createdAt) > sentAt);
}

const RUNNING_SESSION = new Set(["starting", "running"]);
const RESTING_SESSION = new Set(["ready", "idle", "stopped", "interrupted"]);

/**
 * Whether the agent is still working on the loop's last turn, per the T3 contract. `latestTurn` alone
 * lies around turn boundaries on v0.0.27–v0.0.31 (null after a turn ends until a checkpoint, stale
 * right after a dispatch), so it is combined with the session and the messages after ours:
 * - failed: session `error`, latest turn `error`, or an error activity after our message;
 * - running: session `starting`/`running`, or a `running` latest turn newer than the baseline;
 * - idle: a resting session with no active turn and a finished assistant message after ours, or a
 *   latest turn newer than the baseline that is `completed`/`interrupted`;
 * - anything else is a turn recorded but not visibly started yet: reported as running.
 */
export function threadLiveness(thread: ThreadView, sent: SentTurn): Liveness {
  const { session, latestTurn } = thread;
  const sentAt = Date.parse(sent.sentAt);
  const newTurn = latestTurn !== null && latestTurn.turnId !== sent.baselineTurnId ? latestTurn : null;

  if (session?.status === "error") {
    return { state: "failed", reason: `session error${session.lastError ? `: ${session.lastError}` : ""}` };
  }
  if (latestTurn?.state === "error") return { state: "failed", reason: `turn ${latestTurn.turnId} errored` };
  const errorActivity = (thread.activities ?? []).find(
    (a) => a.tone === "error" && Date.parse(a.createdAt) >= sentAt,
  );
  if (errorActivity) {
    const summary = errorActivity.summary ? `: ${errorActivity.summary}` : "";
    return { state: "failed", reason: `${errorActivity.kind}${summary}` };
  }

  if (session && RUNNING_SESSION.has(session.status)) {
    return { state: "running", reason: `session ${session.status}` };
  }
  if (newTurn?.state === "running") return { state: "running", reason: `turn ${newTurn.turnId} running` };

  const resting = session !== null && RESTING_SESSION.has(session.status) && session.activeTurnId === null;
  const answered = messagesAfter(thread, sent).some((m) => m.role === "assistant" && !m.streaming);
  if (resting && answered) {
    return { state: "idle", reason: `session ${session.status}, answer after our message` };
  }
  if (newTurn && (newTurn.state === "completed" || newTurn.state === "interrupted")) {
    return { state: "idle", reason: `turn ${newTurn.turnId} ${newTurn.state}` };
  }
  return { state: "running", reason: "turn recorded, not visibly started yet" };
}
