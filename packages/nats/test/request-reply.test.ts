import { ServiceError } from "@claude-gateway/service-kit";
import { recordingLogger } from "@claude-gateway/testkit";
import { type StartNatsServerOptions, startNatsServer } from "@claude-gateway/testkit/nats-server";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  addService,
  formatIssues,
  InvalidRequestError,
  InvalidResponseError,
  RemoteServiceError,
  RequestTimeoutError,
  replyValue,
  request,
  ServiceUnavailableError,
  serveEndpoint,
  stopService,
} from "../src/index.js";

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
      logger: log,
      handler: (req) => {
        calls.push(req);
        if (req.a === 409) {
          throw new ServiceError(409, "busy", "already adding that", { retryAfterSeconds: 3 });
        }
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
    expect(err).toMatchObject({ status: 400, code: "invalid_request", subject: Add.subject });
    expect((err as Error).message).toMatch(/^invalid request: invalid JSON/);
  });

  it("answers a payload its schema rejects with a 400 listing the issues", async () => {
    // A client on an older contract: its own schema lets the payload through.
    const loose = { ...Add, request: z.object({ a: z.unknown() }) };
    const err = await request(nc, { ...loose, payload: { a: "two" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toMatchObject({ status: 400, code: "invalid_request" });
    expect((err as Error).message).toMatch(/invalid request: a: .*; b: /);
    expect((err as RemoteServiceError).issues?.map((i) => i.path)).toEqual(["a", "b"]);
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

  it("rebuilds a handler's service error on the caller's side: status, code, detail, retry-after", async () => {
    const err = await request(nc, { ...Add, payload: { a: 409, b: 0 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteServiceError);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({
      status: 409,
      code: "busy",
      detail: "already adding that",
      retryAfterSeconds: 3,
      subject: Add.subject,
    });
  });

  it("turns an unexpected handler error into a 500 internal that tells the caller nothing, and logs it", async () => {
    const logged = log.next("adder on fire");
    const err = await request(nc, { ...Add, payload: { a: 500, b: 0 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, code: "internal" });
    expect((err as Error).message).not.toContain("adder on fire");
    expect((await logged).fields).toMatchObject({ status: 500, code: "internal", subject: Add.subject });
  });

  it("does not send a response its schema rejects: 500, logged", async () => {
    const bad = Add.response.safeParse({ sum: "many" });
    const logged = log.next(`invalid response: ${formatIssues(bad.error?.issues ?? [])}`);
    await expect(request(nc, { ...Add, payload: { a: 666, b: 0 } })).rejects.toMatchObject({
      status: 500,
      code: "internal",
    });
    await logged;
  });

  it("an error reply without an envelope keeps its status, as remote_error", async () => {
    const service = await addService(await open(), { name: "legacy", version: "1.0.0" });
    service.addEndpoint("legacy", {
      subject: "legacy.v1",
      handler: (_err, msg) => {
        msg.respondError(503, "down for maintenance");
      },
    });
    await Promise.all(opened.map((c) => c.flush()));
    const err = await request(nc, { ...Add, subject: "legacy.v1", payload: { a: 1, b: 1 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 503, code: "remote_error", detail: "down for maintenance" });
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

describe("stopService", () => {
  it("stops taking requests, and resolves only after the handler in flight has replied", async () => {
    const Slow = { subject: "slow.v1", request: z.object({}), response: z.object({ ok: z.boolean() }) };
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((r) => {
      started = r;
    });
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => {
      finish = r;
    });
    const service = await addService(await open(), { name: "slow", version: "1.0.0" });
    serveEndpoint(service, {
      ...Slow,
      handler: async () => {
        started();
        await gate;
        return { ok: true };
      },
    });
    await Promise.all(opened.map((c) => c.flush()));
    const reply = request(nc, { ...Slow, payload: {}, timeoutMs: 10_000 });
    await handlerStarted;
    let stopped = false;
    const stopping = stopService(service).then(() => {
      stopped = true;
    });
    // Once it has stopped taking requests, a new one finds no responder; the one in flight still runs.
    await service.stopped;
    await nc.flush();
    const late = await request(nc, { ...Slow, payload: {}, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ServiceUnavailableError);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await expect(reply).resolves.toEqual({ ok: true });
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
