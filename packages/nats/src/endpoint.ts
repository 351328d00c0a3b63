import { JetStreamApiError } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { type Service, type ServiceGroup, type ServiceMsg, Svcm } from "@nats-io/services";
import type { z } from "zod";
import { check, decodeJson, encodeJson, headerSafe } from "./codec.js";
import { type NatsLogger, silentLogger } from "./logger.js";

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
  logger?: NatsLogger;
}

export interface ServedEndpoint {
  subject: string;
  /** Resolves once no handler is running (for graceful shutdown after `service.stop()`). */
  idle(): Promise<void>;
}

/** What an error reply carries. */
export interface ErrorReply {
  code: number;
  message: string;
}

/**
 * A typed request-reply endpoint. Bad JSON or a request the schema rejects gets a 400; a
 * handler error gets its own code (500 if it has none); a response the schema rejects is our
 * bug and gets a 500. Every request gets exactly one reply; nothing here throws into the client.
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
      if (reply.error.code >= 500) {
        logger.error({ subject: msg.subject, code: reply.error.code, err: reply.cause }, reply.error.message);
      }
      msg.respondError(reply.error.code, headerSafe(reply.error.message));
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

  return {
    subject: spec.subject,
    idle: async () => {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}

type Answer = { data: Uint8Array } | { error: ErrorReply; cause?: unknown };

async function answer<Req extends z.ZodType, Res extends z.ZodType>(
  spec: EndpointSpec<Req, Res>,
  msg: ServiceMsg,
): Promise<Answer> {
  const req = decodeJson(msg.data, spec.request);
  if (!req.ok) return { error: { code: 400, message: `invalid request: ${req.message}` } };
  let result: z.input<Res>;
  try {
    result = await spec.handler(req.value, { subject: msg.subject, headers: msg.headers });
  } catch (err) {
    return { error: errorReplyFrom(err), cause: err };
  }
  const res = check(result, spec.response);
  if (!res.ok) return { error: { code: 500, message: `invalid response: ${res.message}` } };
  return { data: encodeJson(res.value) };
}

/**
 * The code an error asks for: a `status` or numeric `code` in 400–599 (so `NatsServiceError`,
 * HTTP-ish errors and the like work), else 500. A JetStream API error inside a handler is our
 * failure, not the caller's, whatever its status says.
 */
export function errorReplyFrom(err: unknown): ErrorReply {
  const message = err instanceof Error ? err.message : String(err);
  if (typeof err === "object" && err !== null && !(err instanceof JetStreamApiError)) {
    const { status, code } = err as { status?: unknown; code?: unknown };
    for (const candidate of [status, code]) {
      if (
        typeof candidate === "number" &&
        Number.isInteger(candidate) &&
        candidate >= 400 &&
        candidate <= 599
      ) {
        return { code: candidate, message };
      }
    }
  }
  return { code: 500, message };
}

/** Endpoint names may only hold letters, digits, `-` and `_`. */
export function endpointName(subject: string): string {
  return subject.replace(/\./g, "-").replace(/[^-\w]/g, "_");
}
