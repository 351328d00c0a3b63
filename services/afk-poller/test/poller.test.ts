import { type Adapters, createAdapters } from "@claude-gateway/afk-adapters";
import { type AfkWorld, recordingLogger, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { decodeMarker, encodeMarker, IMPLEMENTER_PREAMBLE, type RunMarker } from "@claude-gateway/afk-core";
import { afterEach, describe, expect, it } from "vitest";
import { runPoller } from "../src/start.js";

let world: AfkWorld;
afterEach(async () => world?.close());

function tick(
  over: Record<string, string> = {},
  extra: { makeAdapters?: Parameters<typeof runPoller>[0]["makeAdapters"] } = {},
) {
  const logger = recordingLogger();
  return runPoller({ env: world.env(over), fetch, now: world.clock.now, logger, ...extra }).then((r) => ({
    ...r,
    logger,
  }));
}

function markerOf(repo: string, number: number): RunMarker | null {
  const comments = world.store.comments(repo, number);
  for (let i = comments.length - 1; i >= 0; i--) {
    const m = decodeMarker(comments[i]!.body);
    if (m) return m;
  }
  return null;
}

describe.each(["forgejo", "github"] as const)("poller tick against fake T3 + %s", (tracker) => {
  it("dispatches the most urgent ready issue, then stamps the label and records the thread", async () => {
    world = await startAfkWorld({ tracker });
    const old = world.store.addIssue("acme/app", {
      title: "old P2",
      labels: ["ready-for-agent"],
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    const urgent = world.store.addIssue("acme/app", {
      title: "urgent",
      body: "It is broken.",
      labels: ["ready-for-agent", "P0"],
    });
    const r = await tick();
    expect(r.exitCode).toBe(0);
    expect(r.outcome?.results).toEqual([
      expect.objectContaining({ issue: `acme/app#${urgent}`, kind: "dispatched" }),
    ]);

    // T3: the three commands the contract wants, all accepted.
    expect(world.t3.rejections).toEqual([]);
    expect(world.t3.commands.map((c) => c.type)).toEqual([
      "project.create",
      "thread.create",
      "thread.turn.start",
    ]);
    const [project, thread, turn] = world.t3.commands;
    expect(project).toMatchObject({ workspaceRoot: "/srv/src/acme/app", title: "acme/app" });
    expect(thread).toMatchObject({
      runtimeMode: "full-access",
      title: `[afk] acme/app#${urgent}: urgent`,
      modelSelection: { model: "claude-sonnet-4-6" },
    });
    const text = turn?.type === "thread.turn.start" ? turn.message.text : "";
    expect(text.startsWith(IMPLEMENTER_PREAMBLE)).toBe(true);
    expect(text).toContain("It is broken.");

    // Tracker: labels swapped, one checklist comment whose marker holds the ids dispatch minted.
    expect(world.store.labelsOf("acme/app", urgent).sort()).toEqual(["P0", "agent-in-progress"]);
    const marker = markerOf("acme/app", urgent);
    expect(marker).toMatchObject({
      phase: "dispatched",
      threadId: thread?.type === "thread.create" ? thread.threadId : "?",
      projectId: project?.type === "project.create" ? project.projectId : "?",
      turn: { messageId: turn?.type === "thread.turn.start" ? turn.message.messageId : "?" },
    });
    expect(world.store.comments("acme/app", urgent)[0]?.body).toContain(
      "- [x] Dispatched to a T3 Code thread",
    );
    expect(world.store.labelsOf("acme/app", old)).toEqual(["ready-for-agent"]);
  });

  it("one run per repository; the next tick takes another repository; then all are locked", async () => {
    world = await startAfkWorld({ tracker });
    world.store.addIssue("acme/app", { title: "a1", labels: ["ready-for-agent"] });
    world.store.addIssue("acme/app", { title: "a2", labels: ["ready-for-agent"] });
    world.store.addIssue("acme/api", { title: "b1", labels: ["ready-for-agent"] });
    const first = await tick({ AFK_MAX_DISPATCH_PER_TICK: "5" });
    expect(first.outcome?.results.map((x) => x.issue).sort()).toEqual(["acme/api#1", "acme/app#1"]);
    const second = await tick({ AFK_MAX_DISPATCH_PER_TICK: "5" });
    expect(second).toMatchObject({ exitCode: 0, outcome: { idle: "all-locked", results: [] } });
    expect(second.logger.lines.some((l) => l.msg === "nothing to dispatch: all-locked")).toBe(true);
    expect(world.t3.threads()).toHaveLength(2);
  });

  it("nothing ready: exit 0 with the reason logged", async () => {
    world = await startAfkWorld({ tracker });
    world.store.addIssue("acme/app", { title: "not ready", labels: ["bug"] });
    const r = await tick();
    expect(r).toMatchObject({ exitCode: 0, outcome: { idle: "nothing-ready" } });
    expect(world.t3.requests).toEqual([]);
  });
});

describe("poller: failures and races", () => {
  it("a failed dispatch leaves no lock and no comment, exits 1, and the next tick retries", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    const failed = await tick({ T3_TOKEN: "revoked" });
    expect(failed.exitCode).toBe(1);
    expect(failed.outcome?.failures[0]?.error).toMatch(/401/);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["ready-for-agent"]);
    expect(world.store.comments("acme/app", n)).toEqual([]);
    const retried = await tick();
    expect(retried.exitCode).toBe(0);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
  });

  it("a repository whose issues cannot be listed is reported and skipped; others still run", async () => {
    world = await startAfkWorld();
    world.store.addIssue("acme/api", { title: "b", labels: ["ready-for-agent"] });
    const r = await tick({ AFK_REPO_ALLOWLIST: "acme/api,acme/missing", T3_WORKSPACE_ROOT: "/srv/{name}" });
    expect(r.exitCode).toBe(1);
    expect(r.outcome?.failures).toEqual([expect.objectContaining({ scope: "acme/missing" })]);
    expect(r.outcome?.results).toEqual([
      expect.objectContaining({ issue: "acme/api#1", kind: "dispatched" }),
    ]);
  });

  it("an issue stamped by an overlapping tick between listing and dispatch is not dispatched twice", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    const racing = (
      config: Parameters<typeof createAdapters>[0],
      io: Parameters<typeof createAdapters>[1],
    ): Adapters => {
      const real = createAdapters(config, io);
      return {
        ...real,
        tracker: {
          ...real.tracker,
          async getIssue(repo, number) {
            // The other tick stamps it after we listed it, just before we re-read it.
            world.store
              .issue("acme/app", n)!
              .labelIds.push(world.store.labelId("acme/app", "agent-in-progress")!);
            return real.tracker.getIssue(repo, number);
          },
        },
      };
    };
    const r = await tick({}, { makeAdapters: racing });
    expect(r.exitCode).toBe(0);
    expect(r.outcome?.results).toEqual([
      { issue: `acme/app#${n}`, kind: "raced", why: "already in progress" },
    ]);
    expect(world.t3.commands).toEqual([]);
  });

  it("adopts a run a previous tick recorded but could not label (no second thread)", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    const at = world.clock.now().toISOString();
    const recorded: RunMarker = {
      v: 1,
      repo: "acme/app",
      issue: n,
      projectId: "p-prev",
      threadId: "t-prev",
      phase: "dispatched",
      phaseSince: at,
      dispatchedAt: at,
      fixForwards: 0,
      turn: { messageId: "m-prev", sentAt: at, baselineTurnId: null },
      sha: null,
      lastCiFailure: null,
      escalation: null,
      updatedAt: at,
    };
    world.store.addComment("acme/app", n, `checklist\n${encodeMarker(recorded)}`);
    const r = await tick();
    expect(r.outcome?.results).toEqual([{ issue: `acme/app#${n}`, kind: "adopted", threadId: "t-prev" }]);
    expect(world.t3.commands).toEqual([]);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
  });

  it("a re-queued issue whose last run escalated gets a fresh run and a new checklist comment", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "a", labels: ["ready-for-agent"] });
    const at = world.clock.now().toISOString();
    const old: RunMarker = {
      v: 1,
      repo: "acme/app",
      issue: n,
      projectId: "p",
      threadId: "t-old",
      phase: "escalated",
      phaseSince: at,
      dispatchedAt: at,
      fixForwards: 3,
      turn: { messageId: "m", sentAt: at, baselineTurnId: null },
      sha: null,
      lastCiFailure: null,
      escalation: { reason: "CI red", from: "ci-running" },
      updatedAt: at,
    };
    world.store.addComment("acme/app", n, encodeMarker(old));
    const r = await tick();
    expect(r.outcome?.results[0]).toMatchObject({ kind: "dispatched" });
    expect(world.store.comments("acme/app", n)).toHaveLength(2);
    expect(markerOf("acme/app", n)?.threadId).not.toBe("t-old");
  });
});

describe("poller: a stalled queue is an alarm", () => {
  it("rings once per lock holder, labels it, and exits 2 while the stall lasts", async () => {
    world = await startAfkWorld();
    const holder = world.store.addIssue("acme/app", { title: "long run", labels: ["ready-for-agent"] });
    expect((await tick()).exitCode).toBe(0);
    const waiting = world.store.addIssue("acme/app", { title: "waiting", labels: ["ready-for-agent"] });

    world.clock.advanceMinutes(239);
    const early = await tick();
    expect(early).toMatchObject({ exitCode: 0, outcome: { idle: "all-locked", stalls: [] } });

    world.clock.advanceMinutes(1);
    const stalled = await tick();
    expect(stalled.exitCode).toBe(2);
    expect(stalled.outcome?.stalls).toEqual([
      expect.objectContaining({ waiting: expect.objectContaining({ number: waiting }), blockedMinutes: 240 }),
    ]);
    expect(
      stalled.logger.lines.some((l) => l.level === "error" && l.msg === "ready queue stalled behind a lock"),
    ).toBe(true);
    expect(world.slack.messages).toHaveLength(1);
    expect(world.slack.messages[0]?.text).toContain(`acme/app#${holder}`);
    expect(world.slack.messages[0]?.text).toContain("waited 240 minutes");
    expect(world.store.labelsOf("acme/app", holder)).toContain("agent-stalled");

    const again = await tick();
    expect(again.exitCode).toBe(2);
    expect(world.slack.messages).toHaveLength(1);
  });
});
