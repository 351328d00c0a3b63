import { describe, expect, it } from "vitest";
import { Activity, ThreadDetail, ThreadDetailReading, ThreadReading } from "./schemas.js";

const AT = "2026-03-02T10:00:00.000Z";
const minimal = { tone: "error", kind: "provider.turn.start.failed", createdAt: AT };
const full = {
  id: "evt-1",
  ...minimal,
  summary: "claude is not authenticated",
  payload: { reason: "x" },
  turnId: null,
  sequence: 4,
};
const thread = (over: Record<string, unknown> = {}) => ({
  id: "t1",
  projectId: "p1",
  latestTurn: null,
  session: null,
  messages: [],
  activities: [],
  archivedAt: null,
  deletedAt: null,
  ...over,
});

describe("T3 read schemas: the contract, not more", () => {
  it.each([
    ["only the fields the contract names (tone, kind, and when)", minimal],
    ["every field v0.0.27 sends", full],
    ["a turn id that is set", { ...minimal, turnId: "turn-1" }],
  ])("an activity with %s is read", (_, activity) => {
    expect(Activity.parse(activity)).toEqual(activity);
  });

  it("fields no version of the contract has are dropped, not refused", () => {
    expect(Activity.parse({ ...minimal, severity: 3, tags: ["x"] })).toEqual(minimal);
    const parsed = ThreadReading.parse(thread({ pinned: true, activities: [{ ...minimal, extra: 1 }] }));
    expect(parsed).toEqual(thread({ activities: [minimal] }));
  });

  it.each([
    ["no tone", { kind: "k", createdAt: AT }],
    ["no kind", { tone: "error", createdAt: AT }],
    ["no time (it could not be placed after our message)", { tone: "error", kind: "k" }],
    ["a summary that is not text", { ...minimal, summary: 3 }],
  ])("an activity with %s is outside the contract", (_, activity) => {
    expect(Activity.safeParse(activity).success).toBe(false);
  });

  it("one activity with only the minimal fields no longer fails the whole thread", () => {
    const t = thread({ activities: [full, minimal] });
    expect(ThreadReading.parse(t).activities).toHaveLength(2);
    expect(ThreadDetailReading.parse({ snapshotSequence: 3, thread: t }).thread.id).toBe("t1");
  });

  it("what the contract does list stays required and exact", () => {
    const { session: _, ...noSession } = thread();
    expect(ThreadReading.safeParse(noSession).success).toBe(false);
    const badTurn = {
      turnId: "turn-1",
      state: "pending",
      requestedAt: AT,
      startedAt: null,
      completedAt: null,
      assistantMessageId: null,
    };
    expect(ThreadReading.safeParse(thread({ latestTurn: badTurn })).success).toBe(false);
  });

  it("the thread endpoint's answer needs only the thread (snapshotSequence is not in the contract)", () => {
    const wholeThread = {
      ...thread(),
      title: "run",
      modelSelection: { instanceId: "claudeAgent", model: "claude-sonnet-4-6" },
      runtimeMode: "full-access",
      interactionMode: "default",
      branch: null,
      worktreePath: null,
      checkpoints: [],
      proposedPlans: [],
      createdAt: AT,
      updatedAt: AT,
    };
    expect(ThreadDetail.parse({ thread: wholeThread }).thread.id).toBe("t1");
    expect(ThreadDetailReading.parse({ thread: thread() }).thread.id).toBe("t1");
  });
});
