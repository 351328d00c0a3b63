import { describe, expect, it } from "vitest";
import { ConversationRecord, newRecord, ownedBy, recordTurn } from "./record.js";

const session = "33333333-3333-4333-8333-333333333333";
const t0 = new Date("2026-01-01T10:00:00.000Z");
const t1 = new Date("2026-01-01T10:05:00.000Z");

/** conv-1's record after alice's first turn. */
const firstTurn = (turn: Partial<Parameters<typeof newRecord>[2]> = {}) =>
  newRecord("conv-1", "tok_alice", {
    sessionId: session,
    model: "claude-haiku-4-5",
    at: t0,
    transcriptSha256: "ab",
    ...turn,
  });

describe("ConversationRecord", () => {
  it("a new conversation: one turn, created and updated now, who started it", () => {
    const r = firstTurn();
    expect(r).toEqual({
      conversationId: "conv-1",
      sessionId: session,
      model: "claude-haiku-4-5",
      createdAt: t0.toISOString(),
      updatedAt: t0.toISOString(),
      turns: 1,
      createdBy: "tok_alice",
      transcriptSha256: "ab",
    });
    expect(ConversationRecord.parse(r)).toEqual(r);
  });

  it("a turn counts up, moves updatedAt and the model, keeps createdAt, replaces the digest", () => {
    const r0 = firstTurn();
    const r1 = recordTurn(r0, {
      sessionId: session,
      model: "claude-sonnet-4-6",
      at: t1,
      transcriptSha256: "cd",
    });
    expect(r1).toMatchObject({
      turns: 2,
      createdAt: t0.toISOString(),
      updatedAt: t1.toISOString(),
      model: "claude-sonnet-4-6",
      transcriptSha256: "cd",
    });
    const r2 = recordTurn(r1, {
      sessionId: session,
      model: "claude-sonnet-4-6",
      at: t1,
      transcriptSha256: undefined,
    });
    expect(r2.turns).toBe(3);
    expect(r2).not.toHaveProperty("transcriptSha256");
  });

  it("belongs to the principal that started it and to no one else; a record without one to no one", () => {
    const r = firstTurn();
    expect(ownedBy(r, "tok_alice")).toBe(true);
    expect(ownedBy(r, "tok_bob")).toBe(false);
    expect(ownedBy(r, "ak_alice")).toBe(false);
    const { createdBy: _, ...anonymous } = r;
    expect(ownedBy(anonymous, "tok_alice")).toBe(false);
    // Records from before principals name the token, not the principal: no one continues them.
    expect(ownedBy({ ...r, createdBy: "alice" }, "tok_alice")).toBe(false);
  });

  it.each([
    ["a session id that is not a UUID", { sessionId: "x" }],
    ["a conversation id with a dot", { conversationId: "a.b" }],
    ["zero turns", { turns: 0 }],
    ["a date that is not ISO", { createdAt: "yesterday" }],
    ["no model", { model: "" }],
  ])("rejects %s", (_, patch) => {
    const r = firstTurn({ model: "m", transcriptSha256: undefined });
    expect(ConversationRecord.safeParse({ ...r, ...patch }).success).toBe(false);
  });
});
