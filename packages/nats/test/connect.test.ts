import { recordingLogger } from "@claude-gateway/testkit";
import { type NatsServer, startNatsServer } from "@claude-gateway/testkit/nats-server";
import { afterAll, describe, expect, it } from "vitest";
import { connectNats, isConnected } from "../src/index.js";

const servers: NatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe("connectNats", () => {
  it("reconnects after the server comes back, logging both transitions", async () => {
    const first = await startNatsServer();
    servers.push(first);
    const log = recordingLogger();
    const nc = await connectNats({
      url: first.url,
      name: "connect-test",
      logger: log,
      // Keep the test quick; production keeps the 1 s + jitter default.
      options: { reconnectTimeWait: 20, reconnectJitter: 20 },
    });
    try {
      expect(log.lines.map((l) => l.msg)).toEqual(["nats connected"]);
      expect(isConnected(nc)).toBe(true);

      const disconnected = log.next("nats disconnected");
      first.kill();
      expect((await disconnected).level).toBe("warn");
      expect(isConnected(nc)).toBe(false);

      const reconnected = log.next("nats reconnected");
      servers.push(await startNatsServer({ port: first.port }));
      expect((await reconnected).level).toBe("info");
      expect(isConnected(nc)).toBe(true);
      await nc.flush();
    } finally {
      const closed = log.next("nats connection closed");
      await nc.close();
      await closed;
    }
    expect(isConnected(nc)).toBe(false);
  });

  it("is not ready while draining", async () => {
    const server = await startNatsServer();
    servers.push(server);
    const nc = await connectNats({ url: server.url, name: "drain-test" });
    const draining = nc.drain();
    expect(isConnected(nc)).toBe(false);
    await draining;
    expect(nc.isClosed()).toBe(true);
  });
});
