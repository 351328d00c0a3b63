import type { AssistantPart, ChatEvent, HistoryEntry, PermissionSummary, ToolSummary } from "./wire.js";

export type AssistantEntry = Extract<HistoryEntry, { role: "assistant" }>;

export function assistantEntry(at: string): AssistantEntry {
  return { role: "assistant", parts: [], at, complete: false };
}

/** The assistant's text of a turn, its pieces joined as said. */
export function entryText(entry: AssistantEntry): string {
  return entry.parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
}

/** The prompts of a turn that nobody has answered yet. */
export function pendingPermissions(entry: AssistantEntry): PermissionSummary[] {
  return entry.parts.flatMap((p) =>
    p.type === "permission" && !p.permission.decision ? [p.permission] : [],
  );
}

export function entryTools(entry: AssistantEntry): ToolSummary[] {
  return entry.parts.flatMap((p) => (p.type === "tool" ? [p.tool] : []));
}

/**
 * Folds one chat event into the assistant's entry of the turn. The server keeps history with it;
 * the UI renders a streaming turn with the same rules (it imports this file).
 */
export function applyEvent(entry: AssistantEntry, ev: ChatEvent): void {
  switch (ev.type) {
    case "text": {
      const last: AssistantPart | undefined = entry.parts.at(-1);
      if (last?.type === "text") last.text += ev.delta;
      else entry.parts.push({ type: "text", text: ev.delta });
      return;
    }
    case "tool":
      if (ev.phase === "call") {
        entry.parts.push({ type: "tool", tool: { id: ev.id, name: ev.name, input: ev.input } });
        return;
      }
      for (const tool of entryTools(entry)) {
        if (tool.id !== ev.id) continue;
        tool.output = ev.output;
        tool.isError = ev.isError;
        tool.truncated = ev.truncated;
      }
      return;
    case "permission":
      entry.parts.push({
        type: "permission",
        permission: { id: ev.id, command: ev.command, risk: ev.risk, expiresAt: ev.expiresAt },
      });
      return;
    case "permission_decision":
      for (const p of entry.parts) {
        if (p.type !== "permission" || p.permission.id !== ev.id) continue;
        p.permission.decision = ev.decision;
        p.permission.by = ev.by;
        if (ev.note !== undefined) p.permission.note = ev.note;
      }
      return;
    case "result":
      entry.costUsd = ev.costUsd;
      entry.durationMs = ev.durationMs;
      return;
    case "error":
      entry.error = { error: ev.error, detail: ev.detail };
      return;
    case "done":
      entry.complete = true;
      return;
    case "session":
      return;
  }
}
