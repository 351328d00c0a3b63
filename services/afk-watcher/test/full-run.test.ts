import { type AfkWorld, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { describe, expect, it } from "vitest";
import { agentTurn, checklistOf, markerOf, useTicks } from "./helpers.js";

const SHA1 = "1111111111111111111111111111111111111111";
const SHA2 = "2222222222222222222222222222222222222222";

let world: AfkWorld;
const { poll, watch } = useTicks(() => world);

/** CI on a commit, as the tracker's CI posts it. */
function ci(
  tracker: "forgejo" | "github",
  sha: string,
  state: "pending" | "success" | "failure",
  name = "test",
) {
  if (tracker === "forgejo") {
    world.store.setStatus("acme/app", sha, name, state, {
      description: state === "failure" ? "2 tests failed" : "",
    });
  } else {
    const done = state !== "pending";
    world.store.setCheckRun(
      "acme/app",
      sha,
      name,
      done ? "completed" : "in_progress",
      done ? state : null,
      state === "failure" ? "2 tests failed" : null,
    );
  }
}

describe.each([
  ["forgejo", "v0.0.27"],
  ["github", "v0.0.32"],
] as const)(
  "a full run on %s with T3 %s: ready → dispatched → CI red → fix-forward → CI green → closed",
  (tracker, t3Version) => {
    it("drives the issue to closed", async () => {
      world = await startAfkWorld({ tracker, t3Version });
      const n = world.store.addIssue("acme/app", {
        title: "Login fails",
        body: "Safari users cannot log in.",
        labels: ["ready-for-agent", "P1"],
      });

      // Tick #1: dispatched.
      expect((await poll()).exitCode).toBe(0);
      const { threadId } = markerOf(world, "acme/app", n);
      expect(world.store.labelsOf("acme/app", n)).toContain("agent-in-progress");

      // Watcher: the turn is recorded but not started (latestTurn null, no session) → running, wait.
      let w = await watch();
      expect(w.outcome?.runs).toEqual([
        expect.objectContaining({ action: expect.objectContaining({ kind: "wait" }), phase: "dispatched" }),
      ]);

      // The agent works: red, green, pushes; CI starts.
      const agent = world.t3.agent(threadId);
      agent.startTurn();
      agent.say("Wrote a failing test.\nPHASE: tests-red");
      world.clock.advanceMinutes(5);
      w = await watch();
      expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "refresh-checklist", to: "tests-red" } });
      expect(checklistOf(world, "acme/app", n)).toContain("- [x] Failing tests written (red)");

      agent.say(`PHASE: tests-green\nPUSHED ${SHA1}`);
      agent.finishTurn(); // latestTurn goes null here (quirk): the session + our answer say idle
      ci(tracker, SHA1, "pending");
      w = await watch();
      expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "refresh-checklist", to: "ci-running" } });
      expect(markerOf(world, "acme/app", n)).toMatchObject({ phase: "ci-running", sha: SHA1 });

      // CI red → a corrective turn on the same thread, with the failure.
      ci(tracker, SHA1, "failure");
      w = await watch();
      expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "fix-forward", attempt: 1, sha: SHA1 } });
      const corrective = world.t3.commands.at(-1);
      expect(corrective).toMatchObject({ type: "thread.turn.start", threadId });
      const text = corrective?.type === "thread.turn.start" ? corrective.message.text : "";
      expect(text).toContain(SHA1);
      expect(text).toContain("- test: 2 tests failed");
      expect(markerOf(world, "acme/app", n)).toMatchObject({
        phase: "dispatched",
        fixForwards: 1,
        sha: null,
        lastCiFailure: { sha: SHA1, checks: ["test"] },
      });
      expect(world.t3.rejections).toEqual([]);

      // Right after the corrective dispatch the old turn still shows (stale): must not read as done.
      agent.checkpoint();
      w = await watch();
      expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "wait" } });

      // The agent fixes forward; CI green → closed.
      agentTurn(world, threadId, "PHASE: tests-green", `PUSHED ${SHA2}`);
      ci(tracker, SHA2, "success");
      w = await watch();
      expect(w.exitCode).toBe(0);
      expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "close" }, phase: "done" });
      expect(world.store.issue("acme/app", n)?.state).toBe("closed");
      expect(world.store.labelsOf("acme/app", n)).toEqual(["P1"]);
      expect(markerOf(world, "acme/app", n)).toMatchObject({ phase: "done", sha: SHA2, fixForwards: 1 });
      expect(checklistOf(world, "acme/app", n)).toContain("### AFK run: done");
      expect(checklistOf(world, "acme/app", n)).not.toContain("could not be confirmed stopped");
      expect(world.slack.messages).toEqual([]);
      // Closing stops the agent: its turn interrupted and its session stopped on T3.
      const stops = world.t3.commands.filter(
        (c) =>
          (c.type === "thread.turn.interrupt" || c.type === "thread.session.stop") && c.threadId === threadId,
      );
      expect(stops.map((c) => c.type)).toEqual(["thread.turn.interrupt", "thread.session.stop"]);

      // Nothing left to watch.
      w = await watch();
      expect(w).toMatchObject({ exitCode: 0, outcome: { runs: [], failures: [] } });
    });
  },
);
