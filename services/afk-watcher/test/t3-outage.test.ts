import { type AfkWorld, type FakeT3Outage, startAfkWorld } from "@claude-gateway/afk-adapters/testing";
import { describe, expect, it } from "vitest";
import { checklistOf, markerOf, useTicks } from "./helpers.js";

let world: AfkWorld;
const { poll, watch } = useTicks(() => world);

// Long enough that no run stalls while these tests move the clock through outages.
const ENV = { STALL_MINUTES: "600" };
const T3_STATE = /thread(s\.0)?\.latestTurn\.state: expected one of running\|interrupted\|completed\|error/;

async function dispatched(version: "v0.0.27" | "v0.0.32"): Promise<{ n: number; threadId: string }> {
  world = await startAfkWorld({ t3Version: version });
  const n = world.store.addIssue("acme/app", { title: "Do it", labels: ["ready-for-agent"] });
  expect((await poll(ENV)).exitCode).toBe(0);
  return { n, threadId: markerOf(world, "acme/app", n).threadId };
}

const doorbells = () => world.slack.messages.map((m) => m.text ?? "");

/** One watcher tick during an outage: it fails, names why, and leaves the run in progress. */
async function failingTick(n: number, reason: RegExp) {
  const w = await watch(ENV);
  expect(w.exitCode).toBe(1);
  expect(w.outcome?.failures).toEqual([{ scope: `acme/app#${n}`, error: expect.stringMatching(reason) }]);
  expect(world.store.labelsOf("acme/app", n)).toEqual(["agent-in-progress"]);
  return markerOf(world, "acme/app", n);
}

describe.each<[version: "v0.0.27" | "v0.0.32", mode: FakeT3Outage, reason: RegExp]>([
  ["v0.0.27", "unreachable", /t3: GET \/api\/orchestration\/threads\/[^ ]+ failed: /],
  ["v0.0.27", "unavailable", /t3: GET \/api\/orchestration\/snapshot answered 503: Service Unavailable/],
  ["v0.0.27", "off-contract", T3_STATE],
  ["v0.0.32", "unreachable", /t3: GET \/api\/orchestration\/threads\/[^ ]+ failed: /],
  ["v0.0.32", "off-contract", T3_STATE],
])("watcher, T3 %s %s: it escalates on what it cannot see", (version, mode, reason) => {
  it("below the limit: no doorbell; past it: exactly one, with the reason; back: cleared; a new outage rings again", async () => {
    const { n, threadId } = await dispatched(version);
    world.clock.advanceMinutes(5);
    const since = world.clock.now().toISOString();
    world.t3.setOutage(mode);

    // Down for less than AFK_T3_UNREACHABLE_MINUTES (30): the tick fails, nobody is called.
    let marker = await failingTick(n, reason);
    expect(marker.t3Outage).toEqual({ since, rang: false, reason: expect.stringMatching(reason) });
    expect(checklistOf(world, "acme/app", n)).toContain(`**T3 cannot be read** since ${since}:`);
    world.clock.advanceMinutes(29);
    marker = await failingTick(n, reason);
    expect(marker.t3Outage).toMatchObject({ since, rang: false });
    expect(doorbells()).toEqual([]);

    // At the limit: one ring, with the reason and the run.
    world.clock.advanceMinutes(1);
    marker = await failingTick(n, reason);
    expect(marker.t3Outage).toMatchObject({ since, rang: true });
    expect(doorbells()).toHaveLength(1);
    const [text = ""] = doorbells();
    expect(text).toContain(`|acme/app#${n}: Do it>`);
    expect(text).toContain(
      "T3 unreachable or answering outside its contract for 30 minutes (limit 30): t3: ",
    );
    expect(text).toMatch(reason);
    expect(text).toContain(`T3 thread ${threadId}, phase dispatched`);

    // Still down, for hours: no second ring.
    for (const minutes of [5, 60, 120]) {
      world.clock.advanceMinutes(minutes);
      await failingTick(n, reason);
    }
    expect(doorbells()).toHaveLength(1);

    // Back within the contract: the run goes on, the outage is cleared from the marker.
    world.t3.setOutage(null);
    world.clock.advanceMinutes(1);
    const back = await watch(ENV);
    expect(back.exitCode).toBe(0);
    expect(back.outcome?.runs[0]).toMatchObject({ action: { kind: "wait" }, phase: "dispatched" });
    expect(markerOf(world, "acme/app", n).t3Outage).toBeNull();
    expect(checklistOf(world, "acme/app", n)).not.toContain("T3 cannot be read");
    expect(doorbells()).toHaveLength(1);

    // A later outage is a new one: its own start, and its own ring.
    world.clock.advanceMinutes(10);
    const again = world.clock.now().toISOString();
    world.t3.setOutage(mode);
    expect((await failingTick(n, reason)).t3Outage).toMatchObject({ since: again, rang: false });
    expect(doorbells()).toHaveLength(1);
    world.clock.advanceMinutes(30);
    expect((await failingTick(n, reason)).t3Outage).toMatchObject({ since: again, rang: true });
    expect(doorbells()).toHaveLength(2);
  });
});

describe("watcher, T3 outage: edge cases", () => {
  it("a doorbell that fails is not recorded as rung: the next tick rings", async () => {
    const { n } = await dispatched("v0.0.27");
    world.t3.setOutage("unreachable");
    await failingTick(n, /failed/);
    world.clock.advanceMinutes(45);
    const broken = await watch({ ...ENV, SLACK_WEBHOOK_URL: `${world.slack.webhookUrl}-revoked` });
    expect(broken.exitCode).toBe(1);
    expect(broken.outcome?.failures).toHaveLength(2);
    expect(markerOf(world, "acme/app", n).t3Outage).toMatchObject({ rang: false });
    expect(doorbells()).toEqual([]);
    await failingTick(n, /failed/);
    expect(doorbells()).toHaveLength(1);
    expect(doorbells()[0]).toContain("for 45 minutes (limit 30)");
    expect(markerOf(world, "acme/app", n).t3Outage).toMatchObject({ rang: true });
    await failingTick(n, /failed/);
    expect(doorbells()).toHaveLength(1);
  });

  it("AFK_T3_UNREACHABLE_MINUTES sets the limit", async () => {
    const { n } = await dispatched("v0.0.27");
    world.t3.setOutage("unavailable");
    const env = { ...ENV, AFK_T3_UNREACHABLE_MINUTES: "5" };
    expect((await watch(env)).exitCode).toBe(1);
    world.clock.advanceMinutes(4);
    await watch(env);
    expect(doorbells()).toEqual([]);
    world.clock.advanceMinutes(1);
    expect((await watch(env)).exitCode).toBe(1);
    expect(doorbells()).toHaveLength(1);
    expect(doorbells()[0]).toContain("for 5 minutes (limit 5)");
    expect(markerOf(world, "acme/app", n).t3Outage).toMatchObject({ rang: true });
  });

  it("the outage reason follows the latest failure; the ring says what T3 does now", async () => {
    const { n } = await dispatched("v0.0.32");
    world.t3.setOutage("unreachable");
    await failingTick(n, /failed/);
    world.clock.advanceMinutes(20);
    world.t3.setOutage("off-contract");
    await failingTick(n, T3_STATE);
    world.clock.advanceMinutes(10);
    await failingTick(n, T3_STATE);
    expect(doorbells()).toHaveLength(1);
    expect(doorbells()[0]).toMatch(
      /for 30 minutes \(limit 30\): t3: GET \/api\/orchestration\/threads\/\S+ answered outside/,
    );
  });
});
