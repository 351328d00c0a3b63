export { callerOfRequest } from "./caller.js";
export type { Decoded, Issue } from "./codec.js";
export { decodeJson, encodeJson, formatIssues } from "./codec.js";
export type { ConnectNatsOptions } from "./connect.js";
export {
  connectFailure,
  connectNats,
  isConnected,
  NatsConnectError,
  natsProblem,
  reconnectDefaults,
} from "./connect.js";
export type { NatsCredentials, NatsServiceConfig, ReadBytes } from "./credentials.js";
export { loadNatsCredentials, loadNatsServiceConfig, NATS_CREDENTIAL_VARIABLES } from "./credentials.js";
export type { AddServiceOptions, EndpointContext, EndpointSpec, ServedEndpoint } from "./endpoint.js";
export { addService, serveEndpoint, serviceErrorFrom, stopService } from "./endpoint.js";
export {
  InvalidKvValueError,
  InvalidRequestError,
  InvalidResponseError,
  JetStreamSetupError,
  KvUpdateConflictError,
  PayloadTooLargeError,
  RemoteServiceError,
  RequestFailedError,
  RequestTimeoutError,
  ServiceUnavailableError,
} from "./errors.js";
export type { EnsureKvOptions, KvJsonEntry, KvUpdateOptions } from "./kv.js";
export { ensureKv, isRevisionConflict, kvGetJson, kvPutJson, kvStreamName, kvUpdateJson } from "./kv.js";
export type { EnsureObjectStoreOptions } from "./objectstore.js";
export { ensureObjectStore, objectStoreStreamName } from "./objectstore.js";
export type { Payloads } from "./payloads.js";
export { natsPayloads, openedPayloads, PayloadMissingError } from "./payloads.js";
export type { RequestSpec } from "./request.js";
export { replyValue, request } from "./request.js";
export type { StreamSpec } from "./stream.js";
export { ensureStream } from "./stream.js";
export type { TranscriptBlobs } from "./transcripts.js";
export { natsTranscriptBlobs, transcriptObjectName } from "./transcripts.js";
