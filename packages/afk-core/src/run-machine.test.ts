import { describe, expect, it } from "vitest";
import {
  derivePhase,
  markDone,
  markEscalated,
  markFixForward,
  newRunMarker,
  nextAction,
  progressMarker,
} from "./run-machine.js";
import { at, marker, runState, T0, thread } from "./test-support/fixtures.js";
import type { Action, Check, CiSummary } from "./types.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const fail = (name: string): Check => ({
  name,
  state: "failure",
  url: `https://ci/${name}`,
  description: "exit 1",
});
const ci = (over: Partial<CiSummary>): CiSummary => ({
  ci: "none",
  deploy: "not-configured",
  failures: [],
  ...over,
});
const red = ci({ ci: "failure", failures: [fail("test")] });
/** A run whose commit is in CI (`ci-running`), the agent `agent`, CI saying `summary`. */
const inCi = (
  agent: "running" | "idle",
  summary: CiSummary,
  over: Omit<Parameters<typeof runState>[0], "marker" | "observation"> = {},
) =>
  runState({
    marker: { sha: SHA, phase: "ci-running" },
    observation: { thread: thread(agent), ci: summary },
    ...over,
  });

describe("derivePhase", () => {
  it.each([
    { name: "nothing new: the carried phase", s: runState({}), phase: "dispatched" },
    {
      name: "agent reports tests red",
      s: runState({ observation: { thread: thread("running", { phases: ["tests-red"] }) } }),
      phase: "tests-red",
    },
    {
      name: "the furthest report wins",
      s: runState({ observation: { thread: thread("running", { phases: ["tests-green", "tests-red"] }) } }),
      phase: "tests-green",
    },
    {
      name: "never goes back",
      s: runState({
        marker: { phase: "pushed", sha: SHA },
        observation: { thread: thread("idle", { phases: ["tests-red"] }) },
      }),
      phase: "pushed",
    },
    {
      name: "a reported push",
      s: runState({ observation: { thread: thread("idle", { sha: SHA }) } }),
      phase: "pushed",
    },
    {
      name: "pushed, CI has no signal yet",
      s: runState({ marker: { phase: "pushed", sha: SHA }, observation: { ci: ci({}) } }),
      phase: "pushed",
    },
    {
      name: "CI pending",
      s: runState({ marker: { sha: SHA }, observation: { ci: ci({ ci: "pending" }) } }),
      phase: "ci-running",
    },
    {
      name: "CI failed: it ran",
      s: runState({ marker: { sha: SHA }, observation: { ci: red } }),
      phase: "ci-running",
    },
    {
      name: "CI green",
      s: runState({ marker: { sha: SHA }, observation: { ci: ci({ ci: "success" }) } }),
      phase: "ci-green",
    },
    {
      name: "deploy green when configured",
      s: runState({
        marker: { sha: SHA },
        deployConfigured: true,
        observation: { ci: ci({ ci: "success", deploy: "success" }) },
      }),
      phase: "deployed",
    },
    {
      name: "CI without a commit is ignored",
      s: runState({ observation: { ci: ci({ ci: "success" }) } }),
      phase: "dispatched",
    },
    { name: "done stays done", s: runState({ marker: { phase: "done" } }), phase: "done" },
    {
      name: "escalated stays escalated",
      s: runState({ marker: { phase: "escalated" }, observation: { thread: thread("idle", { sha: SHA }) } }),
      phase: "escalated",
    },
  ])("$name → $phase", ({ s, phase }) => {
    expect(derivePhase(s)).toBe(phase);
  });
});

describe("nextAction", () => {
  const cases: Array<{
    name: string;
    s: ReturnType<typeof runState>;
    action: Partial<Action> & { kind: Action["kind"] };
    reason?: RegExp;
  }> = [
    // finishing an interrupted tick
    {
      name: "done marker still labelled: close again",
      s: runState({ marker: { phase: "done" } }),
      action: { kind: "close" },
    },
    {
      name: "escalated marker still labelled: escalate again with the same reason",
      s: runState({ marker: { phase: "escalated", escalation: { reason: "CI red", from: "ci-running" } } }),
      action: { kind: "escalate", reason: "CI red" },
    },
    // escalations
    {
      name: "thread gone",
      s: runState({ observation: { thread: null } }),
      action: { kind: "escalate" },
      reason: /t-1 is gone/,
    },
    {
      name: "agent error",
      s: runState({ observation: { thread: thread("failed") } }),
      action: { kind: "escalate" },
      reason: /^agent error: test failed/,
    },
    {
      name: "agent asks for a human",
      s: runState({ observation: { thread: thread("idle", { blocked: "need prod creds" }) } }),
      action: { kind: "escalate" },
      reason: /need prod creds/,
    },
    {
      name: "deploy failed",
      s: runState({
        marker: { sha: SHA },
        deployConfigured: true,
        observation: { thread: thread("idle"), ci: ci({ ci: "success", deploy: "failure" }) },
      }),
      action: { kind: "escalate" },
      reason: /deploy failed on 0123456789ab/,
    },
    {
      name: "agent ended its turn before pushing",
      s: runState({ observation: { thread: thread("idle", { phases: ["tests-green"] }) } }),
      action: { kind: "escalate" },
      reason: /without pushing \(phase tests-green\)/,
    },
    // fix-forward, bounded
    {
      name: "CI red, agent idle: first corrective turn",
      s: inCi("idle", red),
      action: { kind: "fix-forward", sha: SHA, attempt: 1, failures: [fail("test")] },
    },
    {
      name: "CI red, third and last corrective turn",
      s: runState({ marker: { sha: SHA, fixForwards: 2 }, observation: { thread: thread("idle"), ci: red } }),
      action: { kind: "fix-forward", attempt: 3 },
    },
    {
      name: "CI red after MAX_FIX_FORWARDS corrective turns: escalate",
      s: runState({ marker: { sha: SHA, fixForwards: 3 }, observation: { thread: thread("idle"), ci: red } }),
      action: { kind: "escalate" },
      reason: /CI failed on 0123456789ab \(test\) after 3 fix-forward/,
    },
    {
      name: "MAX_FIX_FORWARDS=0: the first red CI escalates",
      s: runState({
        maxFixForwards: 0,
        marker: { sha: SHA },
        observation: { thread: thread("idle"), ci: red },
      }),
      action: { kind: "escalate" },
    },
    {
      name: "CI red while the agent is still running: let it work",
      s: inCi("running", red),
      action: { kind: "wait" },
    },
    {
      name: "CI red on a reported new push",
      s: runState({
        marker: { sha: "aaaaaaa" },
        observation: { thread: thread("idle", { sha: SHA }), ci: red },
      }),
      action: { kind: "fix-forward", sha: SHA },
    },
    // close
    {
      name: "CI green, nothing deploys, agent idle: close",
      s: inCi("idle", ci({ ci: "success" })),
      action: { kind: "close" },
    },
    {
      name: "CI green but the agent is still running: wait for it",
      s: inCi("running", ci({ ci: "success" })),
      action: { kind: "refresh-checklist", from: "ci-running", to: "ci-green" },
    },
    {
      name: "CI green, deploy configured but not reported yet",
      s: inCi("idle", ci({ ci: "success", deploy: "absent" }), { deployConfigured: true }),
      action: { kind: "refresh-checklist", from: "ci-running", to: "ci-green" },
    },
    {
      name: "deployed: close",
      s: runState({
        deployConfigured: true,
        marker: { sha: SHA, phase: "ci-green" },
        observation: { thread: thread("idle"), ci: ci({ ci: "success", deploy: "success" }) },
      }),
      action: { kind: "close" },
    },
    // progress
    {
      name: "tests red reported: refresh the checklist",
      s: runState({ observation: { thread: thread("running", { phases: ["tests-red"] }) } }),
      action: { kind: "refresh-checklist", from: "dispatched", to: "tests-red" },
    },
    {
      name: "pushed, agent idle, CI pending: refresh",
      s: runState({
        marker: { phase: "tests-green" },
        observation: { thread: thread("idle", { sha: SHA }), ci: ci({ ci: "pending" }) },
      }),
      action: { kind: "refresh-checklist", from: "tests-green", to: "ci-running" },
    },
    {
      name: "pushed, CI has not started: wait",
      s: runState({
        marker: { phase: "pushed", sha: SHA },
        observation: { thread: thread("idle"), ci: ci({}) },
      }),
      action: { kind: "wait" },
    },
    {
      name: "nothing new: wait",
      s: runState({}),
      action: { kind: "wait" },
      reason: /phase dispatched, agent running/,
    },
    // stalls
    {
      name: "no progress for STALL_MINUTES: escalate",
      s: runState({ now: at(60) }),
      action: { kind: "escalate" },
      reason: /no progress in phase dispatched for 60 minutes \(limit 60\)/,
    },
    {
      name: "one minute short of the stall limit: wait",
      s: runState({ now: at(59) }),
      action: { kind: "wait" },
    },
    {
      name: "a per-phase stall limit (ci-running: 30)",
      s: inCi("idle", ci({ ci: "pending" }), { now: at(30) }),
      action: { kind: "escalate" },
      reason: /ci-running for 30 minutes \(limit 30\)/,
    },
    {
      name: "progress restarts the stall clock",
      s: runState({ now: at(500), observation: { thread: thread("running", { phases: ["tests-red"] }) } }),
      action: { kind: "refresh-checklist" },
    },
    {
      name: "a running agent still stalls",
      s: runState({ marker: { phase: "tests-green", phaseSince: at(0) }, now: at(61) }),
      action: { kind: "escalate" },
    },
    {
      name: "CI red with the agent running forever stalls too",
      s: inCi("running", red, { now: at(45) }),
      action: { kind: "escalate" },
      reason: /no progress in phase ci-running/,
    },
  ];

  it.each(cases)("$name", ({ s, action, reason }) => {
    const got = nextAction(s);
    expect(got).toMatchObject(action);
    if (reason) expect("reason" in got ? got.reason : "").toMatch(reason);
  });

  it("is a pure function of its input", () => {
    const s = runState({ marker: { sha: SHA }, observation: { thread: thread("idle"), ci: red } });
    const copy = structuredClone(s);
    expect(nextAction(s)).toEqual(nextAction(copy));
    expect(s).toEqual(copy);
  });
});

describe("marker transitions", () => {
  it("newRunMarker starts dispatched with the clock at now", () => {
    const m = newRunMarker({
      issue: { repo: "acme/app", number: 7 },
      projectId: "p",
      threadId: "t",
      turn: { messageId: "m", sentAt: T0, baselineTurnId: null },
      now: T0,
    });
    expect(m).toMatchObject({
      phase: "dispatched",
      phaseSince: T0,
      dispatchedAt: T0,
      fixForwards: 0,
      sha: null,
      issue: 7,
    });
  });

  it("progressMarker moves the phase and restarts its clock", () => {
    const s = runState({ now: at(5), observation: { thread: thread("idle", { sha: SHA }) } });
    expect(progressMarker(s)).toMatchObject({
      phase: "pushed",
      phaseSince: at(5),
      sha: SHA,
      updatedAt: at(5),
    });
  });

  it("progressMarker keeps the clock when only the commit changes", () => {
    const s = runState({
      marker: { phase: "pushed", sha: "aaaaaaa", phaseSince: at(1) },
      now: at(5),
      observation: { thread: thread("idle", { sha: SHA }) },
    });
    expect(progressMarker(s)).toMatchObject({ phase: "pushed", phaseSince: at(1), sha: SHA });
  });

  it("progressMarker returns the same marker when nothing changed", () => {
    const s = runState({});
    expect(progressMarker(s)).toBe(s.marker);
  });

  it("progressMarker ends a T3 outage: there is an observation, so T3 answered", () => {
    const t3Outage = { since: at(0), rang: true, reason: "t3: down" };
    const still = runState({ marker: { t3Outage }, now: at(5) });
    expect(progressMarker(still)).toEqual({ ...still.marker, t3Outage: null, updatedAt: at(5) });
    const moved = runState({
      marker: { t3Outage },
      now: at(5),
      observation: { thread: thread("idle", { sha: SHA }) },
    });
    expect(progressMarker(moved)).toMatchObject({ phase: "pushed", t3Outage: null });
    // A finished run is left as it is.
    const done = runState({ marker: { phase: "done", t3Outage } });
    expect(progressMarker(done)).toBe(done.marker);
  });

  it("markFixForward starts a new attempt and counts it", () => {
    const m = markFixForward(marker({ phase: "ci-running", sha: SHA, fixForwards: 1 }), {
      turn: { messageId: "m-2", sentAt: at(9), baselineTurnId: "turn-1" },
      sha: SHA,
      failures: [fail("test"), fail("lint")],
      now: at(9),
    });
    expect(m).toMatchObject({
      phase: "dispatched",
      phaseSince: at(9),
      fixForwards: 2,
      sha: null,
      turn: { messageId: "m-2" },
      lastCiFailure: { sha: SHA, checks: ["test", "lint"] },
    });
  });

  it("markEscalated records why and where", () => {
    const m = markEscalated(marker({ phase: "tests-green" }), "stuck", at(3));
    expect(m).toMatchObject({ phase: "escalated", escalation: { reason: "stuck", from: "tests-green" } });
    expect(markEscalated(m, "again", at(4))).toBe(m);
  });

  it("markDone ends the run", () => {
    const m = markDone(marker({ phase: "ci-green" }), at(3));
    expect(m).toMatchObject({ phase: "done", phaseSince: at(3) });
    expect(markDone(m, at(4))).toBe(m);
  });
});
