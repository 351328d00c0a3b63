import type { Subscription } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { describeStatus } from "./connect.js";

describe("describeStatus", () => {
  it("logs disconnects as warnings and reconnects as info", () => {
    expect(describeStatus({ type: "disconnect", server: "127.0.0.1:4222" })).toEqual({
      level: "warn",
      msg: "nats disconnected",
      fields: { server: "127.0.0.1:4222" },
    });
    expect(describeStatus({ type: "reconnect", server: "127.0.0.1:4222" })).toMatchObject({ level: "info" });
  });

  it("logs server errors and slow consumers", () => {
    const error = new Error("permissions violation");
    expect(describeStatus({ type: "error", error })).toEqual({
      level: "error",
      msg: "nats server error",
      fields: { err: error },
    });
    const sub = { getSubject: () => "jobs.>" } as Subscription;
    expect(describeStatus({ type: "slowConsumer", sub, pending: 10 })).toMatchObject({
      level: "warn",
      fields: { subject: "jobs.>", pending: 10 },
    });
  });

  it("stays quiet about pings and reconnect attempts", () => {
    expect(describeStatus({ type: "ping", pendingPings: 1 })).toBeUndefined();
    expect(describeStatus({ type: "reconnecting" })).toBeUndefined();
    expect(describeStatus({ type: "close" })).toBeUndefined();
  });
});
