import { type Logger, silentLogger } from "@claude-gateway/service-kit/log";
import type { ConnectionOptions, NatsConnection, Status } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { NatsCredentials } from "./credentials.js";

export interface ConnectNatsOptions {
  /** One URL or several (`nats://host:4222`). */
  url: string | string[];
  /** Shows up in the server's connection list (`connz`). */
  name: string;
  logger?: Logger;
  /** From `loadNatsCredentials`: user/password, nkey or creds, TLS and the inbox prefix. */
  credentials?: NatsCredentials;
  /** Anything else the client takes (auth, timeouts); wins over the defaults below. */
  options?: Partial<ConnectionOptions>;
}

/**
 * Reconnect forever: a service outlives NATS restarts. Every attempt waits the base plus a random
 * jitter, so a fleet of replicas does not reconnect in lockstep.
 */
export const reconnectDefaults = {
  reconnect: true,
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1_000,
  reconnectJitter: 1_000,
} as const satisfies Partial<ConnectionOptions>;

/** Connection state as seen through status events; absent means "connected" for unknown connections. */
const disconnected = new WeakMap<NatsConnection, boolean>();

/** The first connection failed: the message says which server, as whom, and why (never a secret). */
export class NatsConnectError extends Error {
  override readonly name = "NatsConnectError";
}

export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const logger = opts.logger ?? silentLogger;
  const as = opts.credentials?.describe ?? "no credentials";
  const servers = Array.isArray(opts.url) ? opts.url.join(", ") : opts.url;
  const nc = await connect({
    ...reconnectDefaults,
    ...opts.credentials?.options,
    ...opts.options,
    servers: opts.url,
    name: opts.name,
  }).catch((err: unknown) => {
    throw new NatsConnectError(connectFailure(servers, as, err), { cause: err });
  });
  disconnected.set(nc, false);
  logger.info({ server: nc.getServer(), name: opts.name, as }, "nats connected");
  void watchStatus(nc, logger);
  return nc;
}

/** Why a first connection failed, in one line an operator can act on. */
export function connectFailure(servers: string, as: string, err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (/authoriz|authentic|auth/i.test(text)) {
    return `NATS at ${servers} refused ${as} (${text}): check NATS_USER and NATS_PASSWORD(_FILE), NATS_CREDS or NATS_NKEY_SEED_FILE`;
  }
  if (/tls|certificate|ssl/i.test(text)) {
    return `TLS to NATS at ${servers} failed as ${as} (${text}): check NATS_TLS_CA, NATS_TLS_CERT and NATS_TLS_KEY`;
  }
  return `cannot connect to NATS at ${servers} as ${as} (${text}): check NATS_URL`;
}

/** For `/readyz`: open, not draining, and not between a disconnect and the reconnect. */
export function isConnected(nc: NatsConnection): boolean {
  return !nc.isClosed() && !nc.isDraining() && disconnected.get(nc) !== true;
}

/** For a readiness check: why the connection cannot carry work, or undefined. */
export function natsProblem(nc: NatsConnection): string | undefined {
  return isConnected(nc) ? undefined : "NATS is not connected";
}

async function watchStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  // The iterator ends when the connection closes.
  for await (const status of nc.status()) {
    if (status.type === "disconnect") disconnected.set(nc, true);
    if (status.type === "reconnect") disconnected.set(nc, false);
    const entry = describeStatus(status);
    if (entry) logger[entry.level](entry.fields, entry.msg);
  }
  const closedWith = await nc.closed();
  if (closedWith) logger.error({ err: closedWith }, "nats connection closed with an error");
  else logger.info({}, "nats connection closed");
}

export interface StatusLogEntry {
  level: "info" | "warn" | "error";
  msg: string;
  fields: Record<string, unknown>;
}

/** Which status events are worth a log line, and at what level. Pings and retries are noise. */
export function describeStatus(status: Status): StatusLogEntry | undefined {
  switch (status.type) {
    case "disconnect":
      return { level: "warn", msg: "nats disconnected", fields: { server: status.server } };
    case "reconnect":
      return { level: "info", msg: "nats reconnected", fields: { server: status.server } };
    case "error":
      return { level: "error", msg: "nats server error", fields: { err: status.error } };
    case "staleConnection":
      return { level: "warn", msg: "nats connection stale", fields: {} };
    case "ldm":
      return { level: "warn", msg: "nats server entering lame duck mode", fields: { server: status.server } };
    case "slowConsumer":
      return {
        level: "warn",
        msg: "nats slow consumer",
        fields: { subject: status.sub.getSubject(), pending: status.pending },
      };
    default:
      return undefined;
  }
}
