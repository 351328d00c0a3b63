import { type AfkWorld, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { describe, expect, it } from "vitest";
import { checklistOf, markerOf, useTicks } from "./helpers.js";

// Letting go of an issue stops its agent: a full-access T3 thread must not keep working on an issue
// the loop escalated or closed. Against the fake T3 and tracker, through the real ticks.
let world: AfkWorld;
const { poll, watch } = useTicks(() => world);

async function runningAgent(): Promise<{ n: number; threadId: string }> {
  world = await startAfkWorld();
  const n = world.store.addIssue("acme/app", { title: "Do it", labels: ["ready-for-agent"] });
  expect((await poll()).exitCode).toBe(0);
  const threadId = markerOf(world, "acme/app", n).threadId;
  world.t3.agent(threadId).startTurn();
  return { n, threadId };
}

const stopsOf = (threadId: string) =>
  world.t3.commands
    .filter(
      (c) =>
        (c.type === "thread.turn.interrupt" || c.type === "thread.session.stop") && c.threadId === threadId,
    )
    .map((c) => c.type);

describe("escalation stops the agent", () => {
  it("a stalled run: the turn is interrupted, the session stopped and verified; the doorbell says so", async () => {
    const { n, threadId } = await runningAgent();
    expect(world.t3.thread(threadId).session?.status).toBe("running");
    // The queue alarm had marked this lock holder stalled.
    world.store.issue("acme/app", n)!.labelIds.push(world.store.labelId("acme/app", "agent-stalled")!);
    world.clock.advanceMinutes(60);
    const w = await watch();
    expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "escalate" }, phase: "escalated" });
    expect(stopsOf(threadId)).toEqual(["thread.turn.interrupt", "thread.session.stop"]);
    expect(world.t3.thread(threadId).session).toMatchObject({ status: "stopped", activeTurnId: null });
    expect(world.slack.messages).toHaveLength(1);
    expect(world.slack.messages[0]?.text).toMatch(/agent stopped \(session stopped\)/);
    expect(checklistOf(world, "acme/app", n)).not.toContain("could not be confirmed stopped");
    // The lock holder moved on: its stalled label goes with the lock.
    expect(world.store.labelsOf("acme/app", n).sort()).toEqual(["ready-for-human"]);
  });

  it("when T3 does not take the stop, the checklist and the doorbell say the agent may still run", async () => {
    const { n, threadId } = await runningAgent();
    world.clock.advanceMinutes(60);
    // Every answer to the interrupt is lost (the call and both of its resends).
    world.t3.dropAnswers("thread.turn.interrupt", 3);
    const w = await watch();
    expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "escalate" } });
    expect(checklistOf(world, "acme/app", n)).toMatch(
      new RegExp(`could not be confirmed stopped\\*\\* \\(thread \`${threadId}\`: the stop commands failed`),
    );
    expect(world.slack.messages[0]?.text).toMatch(/agent NOT confirmed stopped/);
    expect(markerOf(world, "acme/app", n).phase).toBe("escalated");
  });
});
