import type { Activity, LatestTurn, Message, Session, Thread } from "../t3/schemas.js";

/** One thread of the fake server, with what the quirk hides. */
export interface ThreadState {
  thread: Thread;
  messages: Message[];
  activities: Activity[];
  /** The turn as it really is (what `latestTurn` shows when the quirk is not hiding it). */
  turn: LatestTurn | null;
  pendingMessageIds: string[];
}

/** What the test makes the agent "do" on a thread, reproducing the server's turn-boundary quirks. */
export interface AgentScript {
  /** The provider picks up the latest pending user turn: session running, latestTurn running. */
  startTurn(): string;
  /** An assistant message on the running turn. */
  say(text: string, options?: { streaming?: boolean }): string;
  /**
   * The turn ends. Quirk (v0.0.27–v0.0.31): `latestTurn` goes null and only reappears with
   * `checkpoint()`.
   */
  finishTurn(state?: "completed" | "interrupted"): void;
  /** The git checkpoint after a turn: `latestTurn` reappears with its final state. */
  checkpoint(): void;
  /** The provider fails to start: session error and an error activity. */
  failToStart(reason: string): void;
  /** startTurn + say + finishTurn + checkpoint. */
  reply(text: string): void;
}

/** Scripts the agent on one thread; `stamp` gives monotonic server timestamps. */
export function agentScript(
  state: ThreadState,
  stamp: (state?: ThreadState) => string,
  nextId: () => number,
): AgentScript {
  const threadId = state.thread.id;
  const session = (over: Partial<Session>): Session => ({
    threadId,
    status: "ready",
    providerName: "claudeAgent",
    runtimeMode: state.thread.runtimeMode,
    activeTurnId: null,
    lastError: null,
    ...state.thread.session,
    ...over,
    updatedAt: stamp(state),
  });
  const script: AgentScript = {
    startTurn() {
      if (state.pendingMessageIds.length === 0) throw new Error("fake T3: no pending user turn to start");
      state.pendingMessageIds.shift();
      const turnId = `turn-${nextId()}`;
      const startedAt = stamp(state);
      state.turn = {
        turnId,
        state: "running",
        requestedAt: startedAt,
        startedAt,
        completedAt: null,
        assistantMessageId: null,
      };
      state.thread.latestTurn = { ...state.turn };
      state.thread.session = session({ status: "running", activeTurnId: turnId });
      return turnId;
    },
    say(text, opts = {}) {
      if (state.turn?.state !== "running") throw new Error("fake T3: no running turn");
      const id = `msg-assistant-${nextId()}`;
      const at = stamp(state);
      state.messages.push({
        id,
        role: "assistant",
        text,
        turnId: state.turn.turnId,
        streaming: opts.streaming ?? false,
        createdAt: at,
        updatedAt: at,
      });
      state.turn.assistantMessageId = id;
      return id;
    },
    finishTurn(final = "completed") {
      if (!state.turn) throw new Error("fake T3: no turn to finish");
      for (const m of state.messages) m.streaming = false;
      state.turn = { ...state.turn, state: final, completedAt: stamp(state) };
      state.thread.latestTurn = null;
      state.thread.session = session({
        status: final === "completed" ? "ready" : "interrupted",
        activeTurnId: null,
      });
    },
    checkpoint() {
      state.thread.latestTurn = state.turn ? { ...state.turn } : null;
    },
    failToStart(reason) {
      state.pendingMessageIds.shift();
      const at = stamp(state);
      state.thread.session = session({ status: "error", activeTurnId: null, lastError: reason });
      state.activities.push({
        id: `evt-${nextId()}`,
        tone: "error",
        kind: "provider.turn.start.failed",
        summary: reason,
        payload: { reason },
        turnId: null,
        createdAt: at,
      });
    },
    reply(text) {
      script.startTurn();
      script.say(text);
      script.finishTurn();
      script.checkpoint();
    },
  };
  return script;
}
