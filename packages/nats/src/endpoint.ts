import { errorBody, ServiceError, toServiceError } from "@claude-gateway/service-kit/errors";
import { type Logger, silentLogger } from "@claude-gateway/service-kit/log";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { type Service, type ServiceGroup, type ServiceMsg, Svcm } from "@nats-io/services";
import type { z } from "zod";
import { check, decodeJson, encodeJson, headerSafe } from "./codec.js";

export interface AddServiceOptions {
  name: string;
  /** Semver, required by the micro API. */
  version: string;
  description?: string;
  metadata?: Record<string, string>;
  /** Default "q": every replica of the service shares it, so each request is handled once. */
  queue?: string;
}

/** A NATS micro service: discoverable via `$SRV.PING|INFO|STATS`. Add endpoints with `serveEndpoint`. */
export function addService(nc: NatsConnection, opts: AddServiceOptions): Promise<Service> {
  return new Svcm(nc).add(opts);
}

export interface EndpointContext {
  subject: string;
  headers: MsgHdrs | undefined;
}

export interface EndpointSpec<Req extends z.ZodType, Res extends z.ZodType> {
  /** The subject, relative to the group (dots allowed). */
  subject: string;
  /** The endpoint's name in INFO/STATS; default: the subject with dots as dashes. */
  name?: string;
  request: Req;
  response: Res;
  handler: (req: z.output<Req>, ctx: EndpointContext) => Promise<z.input<Res>> | z.input<Res>;
  metadata?: Record<string, string>;
  /** Replies with a 5xx are logged here. */
  logger?: Logger;
}

export interface ServedEndpoint {
  subject: string;
  /** Resolves once no handler is running (for graceful shutdown after `service.stop()`). */
  idle(): Promise<void>;
}

const served = new WeakMap<object, ServedEndpoint[]>();

/**
 * Graceful stop of a micro service: stops taking requests, then waits until every handler served
 * on it with `serveEndpoint` has replied (a reply to a request already taken is never lost).
 */
export async function stopService(service: Service): Promise<void> {
  await service.stop().catch(() => {});
  await Promise.all((served.get(service) ?? []).map((e) => e.idle()));
}

/**
 * A typed request-reply endpoint. Bad JSON or a request the schema rejects gets a 400
 * `invalid_request`; a handler's error is answered as its service error (`toServiceError`: its
 * own status and code, else a 500 `internal`); a response the schema rejects is our bug and gets
 * a 500. An error reply is a micro-service error whose code is the HTTP status, whose description
 * is the one-line detail, and whose data is the error envelope, which `request` turns back into a
 * typed error. Every request gets exactly one reply; nothing here throws into the client.
 */
export function serveEndpoint<Req extends z.ZodType, Res extends z.ZodType>(
  group: ServiceGroup,
  spec: EndpointSpec<Req, Res>,
): ServedEndpoint {
  const logger = spec.logger ?? silentLogger;
  const name = spec.name ?? endpointName(spec.subject);
  const inFlight = new Set<Promise<void>>();

  const handle = async (msg: ServiceMsg): Promise<void> => {
    const reply = await answer(spec, msg);
    if ("error" in reply) {
      const err = reply.error;
      if (err.status >= 500) {
        const cause = reply.cause ?? err;
        logger.error(
          { subject: msg.subject, status: err.status, code: err.code, err: cause },
          cause instanceof Error ? cause.message : err.message,
        );
      }
      msg.respondError(err.status, headerSafe(err.detail), encodeJson(errorBody(err)));
    } else {
      msg.respond(reply.data);
    }
  };

  group.addEndpoint(name, {
    subject: spec.subject,
    metadata: spec.metadata,
    handler: (err, msg) => {
      // A subscription error stops the service; the micro API handles that before calling us.
      if (err) return;
      const running = handle(msg).catch((cause: unknown) => {
        logger.error({ subject: msg.subject, err: cause }, "could not reply");
      });
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    },
  });

  const endpoint: ServedEndpoint = {
    subject: spec.subject,
    idle: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
  served.set(group, [...(served.get(group) ?? []), endpoint]);
  return endpoint;
}

type Answer = { data: Uint8Array } | { error: ServiceError; cause?: unknown };

async function answer<Req extends z.ZodType, Res extends z.ZodType>(
  spec: EndpointSpec<Req, Res>,
  msg: ServiceMsg,
): Promise<Answer> {
  const req = decodeJson(msg.data, spec.request);
  if (!req.ok) {
    const issues =
      req.reason === "schema"
        ? req.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }))
        : [];
    return { error: new ServiceError(400, "invalid_request", `invalid request: ${req.message}`, { issues }) };
  }
  let result: z.input<Res>;
  try {
    result = await spec.handler(req.value, { subject: msg.subject, headers: msg.headers });
  } catch (err) {
    return { error: serviceErrorFrom(err), cause: err };
  }
  const res = check(result, spec.response);
  if (!res.ok) {
    return {
      error: new ServiceError(500, "internal", "internal error; see the service's logs"),
      cause: new Error(`invalid response: ${res.message}`),
    };
  }
  return { data: encodeJson(res.value) };
}

/**
 * A handler's error as the service error it is answered with. A JetStream API error inside a
 * handler is our failure (a store we use), not the caller's, whatever its own status says.
 */
export function serviceErrorFrom(err: unknown): ServiceError {
  if (err instanceof JetStreamApiError) {
    return new ServiceError(500, "internal", "internal error; see the service's logs", { cause: err });
  }
  return toServiceError(err);
}

/** Endpoint names may only hold letters, digits, `-` and `_`. */
export function endpointName(subject: string): string {
  return subject.replace(/\./g, "-").replace(/[^-\w]/g, "_");
}
