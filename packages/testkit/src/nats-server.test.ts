import { existsSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { describe, expect, it } from "vitest";
import {
  findNatsServerBin,
  NatsServerNotFoundError,
  NatsServerStartError,
  natsServerArgs,
  parseListeningPort,
  startNatsServer,
} from "./nats-server.js";

describe("findNatsServerBin", () => {
  const only =
    (...paths: string[]) =>
    (p: string) =>
      paths.includes(p);

  it("prefers NATS_SERVER_BIN", () => {
    const env = { NATS_SERVER_BIN: "/opt/nats/nats-server", PATH: "/usr/bin" };
    expect(findNatsServerBin(env, only("/opt/nats/nats-server", "/usr/bin/nats-server"))).toBe(
      "/opt/nats/nats-server",
    );
  });

  it("rejects a NATS_SERVER_BIN that is not executable instead of falling back", () => {
    const env = { NATS_SERVER_BIN: "/nope", PATH: "/usr/bin" };
    expect(() => findNatsServerBin(env, only("/usr/bin/nats-server"))).toThrow(NatsServerNotFoundError);
  });

  it("searches PATH in order, then /usr/sbin", () => {
    expect(findNatsServerBin({ PATH: "/a:/b" }, only("/b/nats-server", "/usr/sbin/nats-server"))).toBe(
      "/b/nats-server",
    );
    expect(findNatsServerBin({ PATH: "/a" }, only("/usr/sbin/nats-server"))).toBe("/usr/sbin/nats-server");
  });

  it("says how to install it when it is missing", () => {
    expect(() => findNatsServerBin({ PATH: "/a" }, () => false)).toThrow(/apt-get install -y nats-server/);
  });
});

describe("natsServerArgs", () => {
  it("binds loopback, enables JetStream, and lets the OS pick the port by default", () => {
    expect(natsServerArgs({ storeDir: "/tmp/s" })).toEqual([
      "-a",
      "127.0.0.1",
      "-p",
      "-1",
      "-js",
      "-sd",
      "/tmp/s",
    ]);
    expect(natsServerArgs({ port: 4333, storeDir: "/tmp/s" })).toContain("4333");
  });
});

describe("parseListeningPort", () => {
  it("reads the port from the 2.9 startup line", () => {
    const line =
      "[8405] 2026/11/25 22:06:28.538890 [INF] Listening for client connections on 127.0.0.1:40429";
    expect(parseListeningPort(line)).toBe(40429);
    expect(parseListeningPort("[8405] [INF] Starting http monitor on 127.0.0.1:43433")).toBeUndefined();
  });
});

describe("startNatsServer", () => {
  it("starts a JetStream server on a free port and removes its store on stop", async () => {
    const server = await startNatsServer();
    try {
      expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
      expect(server.port).not.toBe(4222);
      const greeting = await firstLine(server.port);
      expect(greeting).toMatch(/^INFO /);
      expect(JSON.parse(greeting.slice(5))).toMatchObject({ jetstream: true });
    } finally {
      await server.stop();
    }
    expect(existsSync(server.storeDir)).toBe(false);
    expect(isAlive(server.pid)).toBe(false);
    await server.stop(); // idempotent
  });

  it("stop() after kill() still waits and cleans up", async () => {
    const server = await startNatsServer();
    server.kill();
    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
    expect(existsSync(server.storeDir)).toBe(false);
  });

  it("reports a server that exits during startup, with its log", async () => {
    const first = await startNatsServer();
    try {
      // The port is taken, so the second server exits right away.
      const err = await startNatsServer({ port: first.port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NatsServerStartError);
      expect((err as NatsServerStartError).logTail).toMatch(/address already in use/);
    } finally {
      await first.stop();
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    let buffered = "";
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      const eol = buffered.indexOf("\r\n");
      if (eol !== -1) {
        socket.destroy();
        resolve(buffered.slice(0, eol));
      }
    });
  });
}
