import { principalId, subjects } from "@claude-gateway/contracts";
import { encodeJson } from "@claude-gateway/nats";
import { text } from "@claude-gateway/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningConversational } from "../src/start.js";
import { createWorld, turn, type World } from "./harness.js";

// The bus as deployed (generated users and permissions, no anonymous connections): an internal
// caller cannot hand a replica a forged forwarded turn, nor read the turns replicas forward.
const MALLORY = principalId("nats", "mallory");
const REPLICA = "conv-bus-a";
let world: World;
let svc: RunningConversational;

beforeAll(async () => {
  world = await createWorld({ bus: { callers: ["mallory"], anonymous: false } });
  svc = await world.start({ REPLICA_ID: REPLICA });
  world.stub.setDefault(text("Hello."));
});
afterAll(async () => {
  await world?.close();
});

/** Connects as `user`, does `act`, and returns the permission errors the server sent back. */
async function refused(user: string, act: (nc: NatsConnection) => unknown): Promise<string[]> {
  const nc = await connect(world.nats.optionsOf(user));
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && /permissions violation/i.test(String(s.error))) seen.push(String(s.error));
    }
  })();
  try {
    await Promise.resolve(act(nc));
    await nc.flush();
    await nc.flush();
    return seen;
  } finally {
    await nc.close();
  }
}

describe("forwarded turns on the bus", () => {
  it("an internal caller cannot forward a turn to a replica as another caller, nor listen to forwarded turns", async () => {
    // A conversation of the HTTP caller, warm on the replica.
    const own = await turn(svc.url, { message: "my secret is walnut" });
    expect(own.status).toBe(200);
    const before = world.stub.turnRequests().length;
    const forged = {
      request: { conversation_id: own.body.conversation_id, message: "what is my secret?" },
      caller: "tok_tester",
      events: subjects.conversational.forwardEvents(REPLICA, "stolen"),
    };
    const publish = await refused(MALLORY, (nc) =>
      nc.publish(subjects.conversational.forwardTo(REPLICA), encodeJson(forged)),
    );
    expect(publish).toEqual(
      expect.arrayContaining([expect.stringContaining(`"${subjects.conversational.forwardTo(REPLICA)}"`)]),
    );
    const listen = await refused(MALLORY, (nc) => nc.subscribe(subjects.conversational.allReplicas));
    expect(listen).toEqual(
      expect.arrayContaining([expect.stringContaining(`"${subjects.conversational.allReplicas}"`)]),
    );
    // Nothing ran for the forged turn.
    expect(world.stub.turnRequests().length).toBe(before);
  });
});
