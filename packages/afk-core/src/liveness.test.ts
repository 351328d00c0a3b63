import { describe, expect, it } from "vitest";
import { messagesAfter, threadLiveness } from "./liveness.js";
import { at } from "./test-support/fixtures.js";
import type { SentTurn, ThreadView } from "./types.js";

const sent: SentTurn = { messageId: "m-user-2", sentAt: at(10), baselineTurnId: "turn-1" };

type Session = NonNullable<ThreadView["session"]>;
const session = (
  status: Session["status"],
  activeTurnId: string | null = null,
  lastError: string | null = null,
) => ({
  status,
  activeTurnId,
  lastError,
});
const user = { id: "m-user-2", role: "user" as const, text: "go", streaming: false, createdAt: at(10) };
const earlier = {
  id: "m-a-1",
  role: "assistant" as const,
  text: "old answer",
  streaming: false,
  createdAt: at(5),
};
const answer = (streaming = false) => ({
  id: "m-a-2",
  role: "assistant" as const,
  text: "done",
  streaming,
  createdAt: at(12),
});

function view(over: Partial<ThreadView>): ThreadView {
  return {
    id: "t-1",
    deletedAt: null,
    latestTurn: null,
    session: null,
    messages: [earlier, user],
    activities: [],
    ...over,
  };
}

describe("threadLiveness (the contract's rules)", () => {
  it.each<{ name: string; thread: ThreadView; state: "running" | "idle" | "failed" }>([
    // failed
    {
      name: "session error",
      thread: view({ session: session("error", null, "provider crashed") }),
      state: "failed",
    },
    {
      name: "latest turn error",
      thread: view({ latestTurn: { turnId: "turn-2", state: "error" }, session: session("ready") }),
      state: "failed",
    },
    {
      name: "error activity after our message (provider.turn.start.failed)",
      thread: view({
        session: session("ready"),
        activities: [
          { tone: "error", kind: "provider.turn.start.failed", summary: "no provider", createdAt: at(11) },
        ],
      }),
      state: "failed",
    },
    {
      name: "error beats a running session",
      thread: view({
        session: session("running", "turn-2"),
        activities: [{ tone: "error", kind: "runtime.error", summary: "x", createdAt: at(11) }],
      }),
      state: "failed",
    },
    // not failed
    {
      name: "an error activity before our message does not count",
      thread: view({
        session: session("running", "turn-2"),
        activities: [{ tone: "error", kind: "runtime.error", summary: "old", createdAt: at(9) }],
      }),
      state: "running",
    },
    {
      name: "non-error activities do not count",
      thread: view({
        session: session("running", "turn-2"),
        activities: [{ tone: "tool", kind: "tool.started", summary: "bash", createdAt: at(11) }],
      }),
      state: "running",
    },
    // running
    { name: "session starting", thread: view({ session: session("starting") }), state: "running" },
    { name: "session running", thread: view({ session: session("running", "turn-2") }), state: "running" },
    {
      name: "running latest turn newer than the baseline, session not yet updated",
      thread: view({ latestTurn: { turnId: "turn-2", state: "running" }, session: session("ready") }),
      state: "running",
    },
    {
      name: "running session wins over a finished answer",
      thread: view({ session: session("running", "turn-2"), messages: [earlier, user, answer()] }),
      state: "running",
    },
    // idle
    {
      name: "v0.0.27 quirk: latestTurn null after the turn ended, session ready, answer after ours",
      thread: view({ latestTurn: null, session: session("ready"), messages: [earlier, user, answer()] }),
      state: "idle",
    },
    {
      name: "session stopped with an answer",
      thread: view({ session: session("stopped"), messages: [earlier, user, answer()] }),
      state: "idle",
    },
    {
      name: "session interrupted with an answer",
      thread: view({ session: session("interrupted"), messages: [earlier, user, answer()] }),
      state: "idle",
    },
    {
      name: "latest turn newer than the baseline completed (after the checkpoint), no messages (v0.0.32 snapshot)",
      thread: view({
        latestTurn: { turnId: "turn-2", state: "completed" },
        session: session("ready"),
        messages: undefined,
      }),
      state: "idle",
    },
    {
      name: "latest turn newer than the baseline interrupted",
      thread: view({ latestTurn: { turnId: "turn-2", state: "interrupted" }, session: null }),
      state: "idle",
    },
    // the quirks that must NOT read as idle
    {
      name: "stale: right after dispatch latestTurn still shows the previous completed turn",
      thread: view({ latestTurn: { turnId: "turn-1", state: "completed" }, session: session("ready") }),
      state: "running",
    },
    {
      name: "stale: the previous turn's answer is before our message",
      thread: view({ latestTurn: null, session: session("ready"), messages: [earlier, user] }),
      state: "running",
    },
    {
      name: "the answer is still streaming",
      thread: view({ latestTurn: null, session: session("ready"), messages: [earlier, user, answer(true)] }),
      state: "running",
    },
    {
      name: "resting session but a turn still active",
      thread: view({ session: session("ready", "turn-2"), messages: [earlier, user, answer()] }),
      state: "running",
    },
    {
      name: "fresh thread, nothing yet (session null)",
      thread: view({ session: null, messages: [user] }),
      state: "running",
    },
  ])("$name → $state", ({ thread, state }) => {
    expect(threadLiveness(thread, sent).state).toBe(state);
  });

  it("a fresh thread's first completed turn is newer than a null baseline", () => {
    const fresh: SentTurn = { ...sent, baselineTurnId: null };
    const thread = view({ latestTurn: { turnId: "turn-1", state: "completed" }, session: session("ready") });
    expect(threadLiveness(thread, fresh).state).toBe("idle");
  });

  it("names the rule that decided", () => {
    expect(threadLiveness(view({ session: session("error", null, "boom") }), sent).reason).toBe(
      "session error: boom",
    );
  });

  it("an error activity with only the contract's fields (no summary) still fails the run, by its kind", () => {
    const thread = view({
      session: session("ready"),
      activities: [{ tone: "error", kind: "provider.turn.start.failed", createdAt: at(11) }],
    });
    expect(threadLiveness(thread, sent)).toEqual({ state: "failed", reason: "provider.turn.start.failed" });
  });
});

describe("messagesAfter", () => {
  it("takes the messages after ours in createdAt order", () => {
    const thread = view({ messages: [answer(), user, earlier] });
    expect(messagesAfter(thread, sent).map((m) => m.id)).toEqual(["m-a-2"]);
  });
  it("falls back to the send time when our message is not listed", () => {
    const thread = view({ messages: [earlier, answer()] });
    expect(messagesAfter(thread, sent).map((m) => m.id)).toEqual(["m-a-2"]);
  });
  it("is empty without messages", () => {
    expect(messagesAfter(view({ messages: undefined }), sent)).toEqual([]);
  });
});
