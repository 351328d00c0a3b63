import { describe, expect, it } from "vitest";
import { observeThread } from "./observe.js";
import { at } from "./test-support/fixtures.js";
import type { ThreadView } from "./types.js";

const turn = { messageId: "m-2", sentAt: at(10), baselineTurnId: null };
const base: ThreadView = {
  id: "t-1",
  deletedAt: null,
  latestTurn: null,
  session: { status: "ready", activeTurnId: null, lastError: null },
  messages: [
    { id: "m-0", role: "assistant", text: "PUSHED abcdef1", streaming: false, createdAt: at(1) },
    { id: "m-2", role: "user", text: "PHASE: tests-green", streaming: false, createdAt: at(10) },
    {
      id: "m-3",
      role: "assistant",
      text: "PHASE: tests-red\nPHASE: tests-green",
      streaming: false,
      createdAt: at(11),
    },
    { id: "m-4", role: "assistant", text: "PUSHED 1234567890abcdef", streaming: false, createdAt: at(12) },
  ],
  activities: [],
};

describe("observeThread", () => {
  it("reads only the agent's messages after our turn", () => {
    const seen = observeThread(base, turn);
    expect(seen?.reports).toEqual({
      phases: ["tests-red", "tests-green"],
      sha: "1234567890abcdef",
      blocked: null,
    });
    expect(seen?.liveness.state).toBe("idle");
  });
  it("a deleted or missing thread is gone", () => {
    expect(observeThread({ ...base, deletedAt: at(20) }, turn)).toBeNull();
    expect(observeThread(null, turn)).toBeNull();
  });
});
