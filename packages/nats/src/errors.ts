import { ServiceError, type ServiceErrorOptions } from "@claude-gateway/service-kit/errors";
import type { Issue } from "./codec.js";

/**
 * The endpoint answered with an error: the envelope it sent, rebuilt as a typed error on the
 * caller's side (status, code, detail, retry-after and issues as the service meant them). A reply
 * without an envelope (a peer that does not speak it) keeps its status with code `remote_error`.
 */
export class RemoteServiceError extends ServiceError {
  override name = "RemoteServiceError";
  constructor(
    readonly subject: string,
    status: number,
    code: string,
    detail: string,
    options?: ServiceErrorOptions,
  ) {
    super(status, code, detail, options);
  }
}

/** A request larger than the server carries (its `max_payload`); nothing was sent. */
export class PayloadTooLargeError extends ServiceError {
  override name = "PayloadTooLargeError";
  constructor(
    readonly subject: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      413,
      "payload_too_large",
      `the request to ${subject} takes ${bytes} bytes; the bus carries at most ${maxBytes}`,
    );
  }
}

/** A payload on `subject` that does not match its schema; `issues` say where. */
abstract class InvalidPayloadError extends Error {
  constructor(
    readonly subject: string,
    readonly issues: readonly Issue[],
    message: string,
  ) {
    super(message);
  }
}

/** The caller's payload does not match the request schema; nothing was sent. */
export class InvalidRequestError extends InvalidPayloadError {
  override name = "InvalidRequestError";
  constructor(subject: string, issues: readonly Issue[], message: string) {
    super(subject, issues, `invalid request for ${subject}: ${message}`);
  }
}

/** The reply is not JSON or does not match the response schema. */
export class InvalidResponseError extends InvalidPayloadError {
  override name = "InvalidResponseError";
  constructor(subject: string, issues: readonly Issue[], message: string) {
    super(subject, issues, `invalid response from ${subject}: ${message}`);
  }
}

/** No reply within the timeout; the request may still have been processed. */
export class RequestTimeoutError extends Error {
  override name = "RequestTimeoutError";
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`no reply from ${subject} within ${timeoutMs}ms`, options);
  }
}

/** Nobody is subscribed to the subject: the service is down or not deployed. Safe to retry. */
export class ServiceUnavailableError extends Error {
  override name = "ServiceUnavailableError";
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(`no responders for ${subject}`, options);
  }
}

/** The request could not be made (connection closed, draining, bad subject, …). */
export class RequestFailedError extends Error {
  override name = "RequestFailedError";
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`request to ${subject} failed${reason}`, options);
  }
}

/** A stream, KV bucket or object store could not be created or brought to the wanted config. */
export class JetStreamSetupError extends Error {
  override name = "JetStreamSetupError";
  constructor(
    readonly kind: "stream" | "kv" | "objectstore",
    readonly resource: string,
    options?: ErrorOptions,
  ) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`could not set up ${kind} ${resource}${reason}`, options);
  }
}

/** A KV value is not JSON or does not match its schema (when read, or before it is written). */
export class InvalidKvValueError extends Error {
  override name = "InvalidKvValueError";
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly issues: readonly Issue[],
    message: string,
  ) {
    super(`invalid value for ${bucket}/${key}: ${message}`);
  }
}

/** `kvUpdateJson` lost the revision race on every attempt. */
export class KvUpdateConflictError extends Error {
  override name = "KvUpdateConflictError";
  /** What a service answers: too many writers at once on one key, a moment later it will pass. */
  readonly status = 503;
  readonly code = "store_contended";
  readonly retryAfterSeconds = 1;
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(`${bucket}/${key} kept changing underneath ${attempts} update attempts`, options);
  }

  get detail(): string {
    return "too many requests changed the same shared counter at once; retry";
  }
}
