import { type AfkWorld, recordingLogger, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { decodeMarker, encodeMarker, type RunMarker } from "@claude-gateway/afk-core";
import { afterEach, describe, expect, it } from "vitest";
import { runPoller } from "../src/start.js";

// T3 records a command and the connection dies before its answer: the worst moment for the loop.
// Whatever command it hits, and whether the retry comes in the same tick or the next, there is one
// thread with one turn on T3, and the issue records that thread.
let world: AfkWorld;
afterEach(async () => world?.close());

const tick = () => runPoller({ env: world.env(), fetch, now: world.clock.now, logger: recordingLogger() });

function markerOf(n: number): RunMarker | null {
  const comments = world.store.comments("acme/app", n);
  for (let i = comments.length - 1; i >= 0; i--) {
    const m = decodeMarker(comments[i]!.body);
    if (m) return m;
  }
  return null;
}

function expectOneRun(n: number) {
  expect(world.t3.projects()).toHaveLength(1);
  const threads = world.t3.threads();
  expect(threads).toHaveLength(1);
  const userTurns = world.t3.thread(threads[0]!.id).messages.filter((m) => m.role === "user");
  expect(userTurns).toHaveLength(1);
  expect(world.t3.commands.map((c) => c.type)).toEqual([
    "project.create",
    "thread.create",
    "thread.turn.start",
  ]);
  expect(markerOf(n)).toMatchObject({ threadId: threads[0]!.id, turn: { messageId: userTurns[0]!.id } });
  expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
}

const COMMANDS = ["project.create", "thread.create", "thread.turn.start"] as const;

describe.each(COMMANDS)("the answer to %s is lost after T3 recorded it", (type) => {
  it("the same tick resends the same command: one thread", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    world.t3.dropAnswers(type, 1);
    expect((await tick()).exitCode).toBe(0);
    expectOneRun(n);
  });

  it("a tick that never gets the answer fails clean; the next resends the same commands: one thread", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    // The call and both of its resends.
    world.t3.dropAnswers(type, 3);
    expect((await tick()).exitCode).toBe(1);
    expect(world.store.comments("acme/app", n)).toEqual([]);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["ready-for-agent"]);
    world.clock.advanceMinutes(5);
    expect((await tick()).exitCode).toBe(0);
    expectOneRun(n);
  });
});

describe("a re-queued issue", () => {
  it("is a new attempt: a new thread, and the stalled label of the last run goes", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent", "agent-stalled"] });
    const previous: RunMarker = {
      v: 1,
      repo: "acme/app",
      issue: n,
      projectId: "p-old",
      threadId: "t-old",
      phase: "escalated",
      phaseSince: "2026-01-01T00:00:00.000Z",
      dispatchedAt: "2026-01-01T00:00:00.000Z",
      fixForwards: 0,
      turn: { messageId: "m-old", sentAt: "2026-01-01T00:00:00.000Z", baselineTurnId: null },
      sha: null,
      lastCiFailure: null,
      escalation: { reason: "stalled", from: "dispatched" },
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    world.store.addComment("acme/app", n, `checklist\n${encodeMarker(previous)}`);
    expect((await tick()).exitCode).toBe(0);
    const marker = markerOf(n);
    expect(marker?.threadId).not.toBe("t-old");
    expect(marker?.phase).toBe("dispatched");
    expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
  });
});
