import { type StartNatsServerOptions, startNatsServer } from "@claude-gateway/testkit/nats-server";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  addService,
  InvalidRequestError,
  InvalidResponseError,
  NatsServiceError,
  RemoteServiceError,
  RequestTimeoutError,
  replyValue,
  request,
  ServiceUnavailableError,
  serveEndpoint,
} from "../src/index.js";
import { recordingLogger } from "./recording-logger.js";

const Add = {
  subject: "calc.add",
  request: z.object({ a: z.number(), b: z.number() }),
  response: z.object({ sum: z.number() }),
};

let server: Awaited<ReturnType<typeof startNatsServer>>;
let nc: NatsConnection;
const opened: NatsConnection[] = [];

async function open(): Promise<NatsConnection> {
  const c = await connect({ servers: server.url });
  opened.push(c);
  return c;
}

beforeAll(async () => {
  server = await startNatsServer({} satisfies StartNatsServerOptions);
  nc = await open();
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await server?.stop();
});

describe("serveEndpoint + request", () => {
  const calls: Array<{ a: number; b: number }> = [];
  const log = recordingLogger();
  let release: () => void = () => {};
  const stuck = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    const service = await addService(await open(), { name: "calc", version: "1.0.0" });
    serveEndpoint(service, {
      ...Add,
      logger: log.logger,
      handler: (req) => {
        calls.push(req);
        if (req.a === 409) throw new NatsServiceError(409, "already adding that");
        if (req.a === 500) throw new Error("adder on fire");
        // A bug: the response schema wants a number.
        if (req.a === 666) return { sum: "many" } as unknown as { sum: number };
        return { sum: req.a + req.b };
      },
    });
    serveEndpoint(service, {
      subject: "calc.stuck",
      request: z.object({}),
      response: z.object({}),
      handler: async () => {
        await stuck;
        return {};
      },
    });
  });
  afterAll(() => release());

  it("round-trips a typed request", async () => {
    await expect(request(nc, { ...Add, payload: { a: 2, b: 3 } })).resolves.toEqual({ sum: 5 });
  });

  it("answers invalid JSON with a 400, which the client sees as a RemoteServiceError", async () => {
    const reply = await nc.request(Add.subject, "{not json", { timeout: 2_000 });
    expect(reply.headers?.get("Nats-Service-Error-Code")).toBe("400");
    const err = (() => {
      try {
        replyValue(Add.subject, reply, Add.response);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toMatchObject({ code: 400, subject: Add.subject });
    expect((err as Error).message).toMatch(/^invalid request: invalid JSON/);
  });

  it("answers a payload its schema rejects with a 400 listing the issues", async () => {
    // A client on an older contract: its own schema lets the payload through.
    const loose = { ...Add, request: z.object({ a: z.unknown() }) };
    const err = await request(nc, { ...loose, payload: { a: "two" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toMatchObject({ code: 400 });
    expect((err as Error).message).toMatch(/invalid request: a: .*; b: /);
  });

  it("does not send a payload that fails the caller's own schema", async () => {
    const before = calls.length;
    const err = await request(nc, { ...Add, payload: { a: 1 } as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as InvalidRequestError).issues[0]?.path).toEqual(["b"]);
    // The next real request is the first the handler sees.
    await request(nc, { ...Add, payload: { a: 1, b: 1 } });
    expect(calls.slice(before)).toEqual([{ a: 1, b: 1 }]);
  });

  it("passes a handler error's code through", async () => {
    await expect(request(nc, { ...Add, payload: { a: 409, b: 0 } })).rejects.toMatchObject({
      name: "RemoteServiceError",
      code: 409,
      message: "already adding that",
    });
  });

  it("turns an unexpected handler error into a 500 and logs it", async () => {
    const logged = log.next("adder on fire");
    await expect(request(nc, { ...Add, payload: { a: 500, b: 0 } })).rejects.toMatchObject({
      code: 500,
      message: "adder on fire",
    });
    expect((await logged).fields).toMatchObject({ code: 500, subject: Add.subject });
  });

  it("does not send a response its schema rejects: 500", async () => {
    await expect(request(nc, { ...Add, payload: { a: 666, b: 0 } })).rejects.toMatchObject({
      code: 500,
      message: expect.stringMatching(/^invalid response: sum: /),
    });
  });

  it("rejects a reply that does not match the caller's response schema", async () => {
    const strict = { ...Add, response: z.object({ sum: z.string() }) };
    await expect(request(nc, { ...strict, payload: { a: 1, b: 2 } })).rejects.toBeInstanceOf(
      InvalidResponseError,
    );
  });

  it("times out with a typed error", async () => {
    const err = await request(nc, {
      subject: "calc.stuck",
      request: z.object({}),
      response: z.object({}),
      payload: {},
      timeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err).toMatchObject({ subject: "calc.stuck", timeoutMs: 200 });
  });

  it("reports no responders as ServiceUnavailableError", async () => {
    await expect(
      request(nc, { ...Add, subject: "calc.nobody", payload: { a: 1, b: 1 }, timeoutMs: 2_000 }),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});

describe("replicas", () => {
  const Echo = {
    subject: "echo.v1",
    request: z.object({ n: z.number() }),
    response: z.object({ n: z.number(), by: z.string() }),
  };

  it("share one queue group: each request is handled by exactly one replica", async () => {
    const handled = new Map<string, number[]>();
    for (const replica of ["r1", "r2"]) {
      const service = await addService(await open(), { name: "echo", version: "1.0.0" });
      handled.set(replica, []);
      serveEndpoint(service, {
        ...Echo,
        handler: ({ n }) => {
          handled.get(replica)?.push(n);
          return { n, by: replica };
        },
      });
      // The micro API's default: every endpoint joins the service's queue group "q".
      expect(service.info().endpoints.map((e) => e.queue_group)).toEqual(["q"]);
    }
    // Both replicas are subscribed once the server has seen their SUBs; a round trip per connection proves it.
    await Promise.all(opened.map((c) => c.flush()));

    const n = 60;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => request(nc, { ...Echo, payload: { n: i } })),
    );
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: n }, (_, i) => i));
    const all = [...handled.values()].flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    // Random distribution: a replica getting none of 60 has probability 2^-59.
    for (const [replica, ns] of handled) expect(ns.length, replica).toBeGreaterThan(0);
  });

  it("are discoverable through the micro API", async () => {
    const pings = await new Svcm(nc).client({ strategy: "stall", maxWait: 2_000 }).ping("echo");
    const ids = new Set<string>();
    for await (const ping of pings) ids.add(ping.id);
    expect(ids.size).toBe(2);
  });
});
