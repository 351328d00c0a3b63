import { type AfkWorld, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { describe, expect, it } from "vitest";
import { agentTurn, checklistOf, markerOf, useTicks } from "./helpers.js";

const SHA1 = "1111111111111111111111111111111111111111";
const SHA2 = "2222222222222222222222222222222222222222";

let world: AfkWorld;
const { poll, watch } = useTicks(() => world);

async function dispatched(over: Record<string, string> = {}): Promise<{ n: number; threadId: string }> {
  world = await startAfkWorld();
  const n = world.store.addIssue("acme/app", { title: "Do it", labels: ["ready-for-agent"] });
  expect((await poll(over)).exitCode).toBe(0);
  return { n, threadId: markerOf(world, "acme/app", n).threadId };
}

function expectEscalated(n: number, reason: RegExp) {
  expect(world.store.labelsOf("acme/app", n).sort()).toEqual(["ready-for-human"]);
  expect(world.store.issue("acme/app", n)?.state).toBe("open");
  expect(world.slack.messages).toHaveLength(1);
  const text = world.slack.messages[0]?.text ?? "";
  expect(text).toContain(`|acme/app#${n}: Do it>`);
  expect(text).toContain(`/acme/app/issues/${n}`);
  expect(text).toMatch(reason);
  expect(markerOf(world, "acme/app", n).phase).toBe("escalated");
  expect(checklistOf(world, "acme/app", n)).toContain("### AFK run: needs a human");
}

describe("watcher escalations: relabel ready-for-human, ring the doorbell, say why", () => {
  it("the agent's provider fails to start", async () => {
    const { n, threadId } = await dispatched();
    world.t3.agent(threadId).failToStart("claude is not authenticated");
    const w = await watch();
    expect(w.exitCode).toBe(0);
    expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "escalate" }, phase: "escalated" });
    expectEscalated(n, /agent error: session error: claude is not authenticated/);
  });

  it("CI stays red after MAX_FIX_FORWARDS corrective turns", async () => {
    const { n, threadId } = await dispatched({ MAX_FIX_FORWARDS: "1" });
    agentTurn(world, threadId, `PUSHED ${SHA1}`);
    world.store.setStatus("acme/app", SHA1, "test", "failure");
    expect((await watch({ MAX_FIX_FORWARDS: "1" })).outcome?.runs[0]?.action.kind).toBe("fix-forward");
    agentTurn(world, threadId, `PUSHED ${SHA2}`);
    world.store.setStatus("acme/app", SHA2, "test", "failure");
    const w = await watch({ MAX_FIX_FORWARDS: "1" });
    expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "escalate" } });
    expectEscalated(n, /CI failed on 222222222222 \(test\) after 1 fix-forward/);
    expect(world.t3.commands.filter((c) => c.type === "thread.turn.start")).toHaveLength(2);
  });

  it("no progress for STALL_MINUTES", async () => {
    const { n } = await dispatched();
    world.clock.advanceMinutes(59);
    expect((await watch()).outcome?.runs[0]?.action.kind).toBe("wait");
    world.clock.advanceMinutes(1);
    await watch();
    expectEscalated(n, /no progress in phase dispatched for 60 minutes/);
  });

  it("the agent ends its turn without pushing", async () => {
    const { n, threadId } = await dispatched();
    agentTurn(world, threadId, "I looked around. PHASE: tests-red is next.");
    await watch();
    expectEscalated(n, /ended its turn without pushing/);
  });

  it("the agent asks for a human", async () => {
    const { n, threadId } = await dispatched();
    agentTurn(world, threadId, "BLOCKED: the issue contradicts the API contract");
    await watch();
    expectEscalated(n, /the agent asked for a human: the issue contradicts the API contract/);
  });

  it("the T3 thread is gone", async () => {
    const { n, threadId } = await dispatched();
    await fetch(`${world.t3.url}/api/orchestration/dispatch`, {
      method: "POST",
      headers: { authorization: `Bearer ${world.t3.token}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "thread.delete", commandId: "del-1", threadId }),
    });
    await watch();
    expectEscalated(n, /is gone/);
  });

  it("an in-progress label without a run marker", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "Do it", labels: ["agent-in-progress"] });
    const w = await watch();
    expect(w.exitCode).toBe(0);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["ready-for-human"]);
    expect(world.slack.messages[0]?.text).toMatch(/no run marker/);
    expect(world.t3.requests).toEqual([]);
  });

  it("a deploy step: CI green waits for the deploy check, a failed deploy escalates", async () => {
    const { n, threadId } = await dispatched({ AFK_DEPLOY_CONTEXT: "deploy" });
    agentTurn(world, threadId, `PUSHED ${SHA1}`);
    world.store.setStatus("acme/app", SHA1, "test", "success");
    const green = await watch({ AFK_DEPLOY_CONTEXT: "deploy" });
    expect(green.outcome?.runs[0]).toMatchObject({ action: { kind: "refresh-checklist", to: "ci-green" } });
    expect(world.store.issue("acme/app", n)?.state).toBe("open");
    world.store.setStatus("acme/app", SHA1, "deploy", "failure");
    await watch({ AFK_DEPLOY_CONTEXT: "deploy" });
    expectEscalated(n, /deploy failed on 111111111111/);
  });
});

describe("watcher: deploy success closes; interrupted ticks are finished by the next", () => {
  it("a green deploy closes the run", async () => {
    const { n, threadId } = await dispatched({ AFK_DEPLOY_CONTEXT: "deploy" });
    agentTurn(world, threadId, `PUSHED ${SHA1}`);
    world.store.setStatus("acme/app", SHA1, "test", "success");
    world.store.setStatus("acme/app", SHA1, "deploy", "success");
    const w = await watch({ AFK_DEPLOY_CONTEXT: "deploy" });
    expect(w.outcome?.runs[0]).toMatchObject({ action: { kind: "close" } });
    expect(world.store.issue("acme/app", n)?.state).toBe("closed");
    expect(checklistOf(world, "acme/app", n)).toContain("- [x] Deployed");
  });

  it("a doorbell that fails: exit 1, the run stays in progress, the next tick rings and relabels", async () => {
    const { n, threadId } = await dispatched();
    world.t3.agent(threadId).failToStart("boom");
    const broken = await watch({ SLACK_WEBHOOK_URL: `${world.slack.webhookUrl}-revoked` });
    expect(broken.exitCode).toBe(1);
    expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
    expect(markerOf(world, "acme/app", n).phase).toBe("escalated");
    const fixed = await watch();
    expect(fixed.exitCode).toBe(0);
    expectEscalated(n, /agent error: session error: boom/);
  });

  it("a corrupt marker is a failure to report, not a silent skip", async () => {
    world = await startAfkWorld();
    const n = world.store.addIssue("acme/app", { title: "Do it", labels: ["agent-in-progress"] });
    world.store.addComment("acme/app", n, "<!-- afk-state:v1 {broken -->");
    const w = await watch();
    expect(w.exitCode).toBe(1);
    expect(w.outcome?.failures[0]).toMatchObject({ scope: `acme/app#${n}` });
    expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
  });
});
