import { ErrorEnvelope } from "@claude-gateway/contracts";
import { type Msg, type MsgHdrs, type NatsConnection, RequestError, TimeoutError } from "@nats-io/nats-core";
import { ServiceError as MicroServiceError } from "@nats-io/services";
import type { z } from "zod";
import { check, decodeJson, encodeJson, issuesOf } from "./codec.js";
import {
  InvalidRequestError,
  InvalidResponseError,
  PayloadTooLargeError,
  RemoteServiceError,
  RequestFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
} from "./errors.js";

export interface RequestSpec<Req extends z.ZodType, Res extends z.ZodType> {
  subject: string;
  request: Req;
  response: Res;
  payload: z.input<Req>;
  /** Default 5 s. */
  timeoutMs?: number;
  headers?: MsgHdrs;
}

/**
 * One typed request-reply. The payload is checked before it is sent; the reply is checked before
 * it is returned. Every failure is one of this package's named errors.
 */
export async function request<Req extends z.ZodType, Res extends z.ZodType>(
  nc: NatsConnection,
  spec: RequestSpec<Req, Res>,
): Promise<z.output<Res>> {
  const { subject } = spec;
  const timeoutMs = spec.timeoutMs ?? 5_000;
  const payload = check(spec.payload, spec.request);
  if (!payload.ok) throw new InvalidRequestError(subject, issuesOf(payload), payload.message);

  const data = encodeJson(payload.value);
  const maxBytes = nc.info?.max_payload;
  // Refused here with a clear 413 rather than by the client library as a generic failure.
  if (maxBytes !== undefined && data.length > maxBytes)
    throw new PayloadTooLargeError(subject, data.length, maxBytes);
  let reply: Msg;
  try {
    reply = await nc.request(subject, data, {
      timeout: timeoutMs,
      headers: spec.headers,
    });
  } catch (err) {
    throw requestErrorFrom(subject, timeoutMs, err);
  }

  return replyValue(subject, reply, spec.response);
}

/** A reply as the typed value, or `RemoteServiceError` / `InvalidResponseError`. */
export function replyValue<S extends z.ZodType>(subject: string, reply: Msg, schema: S): z.output<S> {
  const remote = MicroServiceError.toServiceError(reply);
  if (remote) throw remoteError(subject, remote.code, remote.message, reply.data);
  const res = decodeJson(reply.data, schema);
  if (!res.ok) throw new InvalidResponseError(subject, issuesOf(res), res.message);
  return res.value;
}

/** The client's transport errors, as this package's named errors. */
export function requestErrorFrom(subject: string, timeoutMs: number, err: unknown): Error {
  if (err instanceof TimeoutError) return new RequestTimeoutError(subject, timeoutMs, { cause: err });
  if (err instanceof RequestError && err.isNoResponders()) {
    return new ServiceUnavailableError(subject, { cause: err });
  }
  return new RequestFailedError(subject, { cause: err });
}

/** An error reply as the typed error its envelope describes. */
function remoteError(
  subject: string,
  status: number,
  description: string,
  data: Uint8Array,
): RemoteServiceError {
  const envelope = data.length > 0 ? decodeJson(data, ErrorEnvelope) : undefined;
  if (envelope?.ok) {
    const e = envelope.value;
    return new RemoteServiceError(subject, status, e.error, e.detail, {
      ...(e.retry_after_seconds !== undefined ? { retryAfterSeconds: e.retry_after_seconds } : {}),
      ...(e.issues !== undefined ? { issues: e.issues } : {}),
    });
  }
  return new RemoteServiceError(subject, status, "remote_error", description);
}
