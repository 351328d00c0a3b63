import { PrincipalId, principalId } from "./principal.js";
import { buckets, subjects } from "./subjects.js";

/**
 * The bus's users and what each may do: the one source the NATS server configuration is generated
 * from (deploy, `pnpm start`, the tests). Pure: no I/O.
 *
 * - Our three services each have a user `svc_<name>`. Only they may act for a caller they
 *   authenticated over HTTP (they publish request subjects with that caller's principal).
 * - An internal caller is a user named by its principal, `nats_<name>`. It may publish only the
 *   request subjects that end in its own principal and read only its own jobs' events, so the
 *   server, not the payload, says who it is. It never touches JetStream, KV or the object store.
 * - Every user has its own inbox prefix (`_INBOX_<user>`): no one can read another's replies.
 */

/** The services that connect to the bus, by the name their user carries. */
export const BUS_SERVICES = ["executor", "openai-gateway", "conversational"] as const;
export type BusService = (typeof BUS_SERVICES)[number];

export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it received (reply subjects only, once). */
  allowResponses: boolean;
}

export interface BusUser {
  /** The NATS user name (`svc_executor`, `nats_billing-svc`). */
  user: string;
  /** What it is: one of our services, or an internal caller (its principal is its user name). */
  kind: "service" | "caller";
  permissions: BusPermissions;
}

/** The NATS user of one of our services. A principal never starts with `svc_`, so none collide. */
export function serviceUser(service: BusService): string {
  return `svc_${service}`;
}

/** Where a user's replies arrive; its subscribe permission covers exactly this prefix. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user}`;
}

/** A stream's name as JetStream knows it. */
const kvStream = (bucket: string) => `KV_${bucket}`;
const objStream = (bucket: string) => `OBJ_${bucket}`;

/**
 * The JetStream API a user needs on one stream. An owner also creates, updates and purges it (an
 * object store deletes by purging); no one gets `STREAM.DELETE`: removing a stream is the operator's.
 */
function streamApi(stream: string, owner: boolean): string[] {
  const api = "$JS.API";
  return [
    `${api}.STREAM.INFO.${stream}`,
    `${api}.STREAM.MSG.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}.>`,
    `${api}.CONSUMER.CREATE.${stream}`,
    `${api}.CONSUMER.CREATE.${stream}.>`,
    `${api}.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `${api}.CONSUMER.INFO.${stream}.*`,
    `${api}.CONSUMER.DELETE.${stream}.*`,
    `${api}.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
    ...(owner
      ? [`${api}.STREAM.CREATE.${stream}`, `${api}.STREAM.UPDATE.${stream}`, `${api}.STREAM.PURGE.${stream}`]
      : []),
  ];
}

const kvAccess = (bucket: string, owner: boolean) => [
  `$KV.${bucket}.>`,
  ...streamApi(kvStream(bucket), owner),
];
/** Reads a bucket (get, watch) without writing it: no `$KV.<bucket>.>`, no stream changes. */
const kvRead = (bucket: string) => streamApi(kvStream(bucket), false);
const objAccess = (bucket: string, owner: boolean) => [
  `$O.${bucket}.>`,
  ...streamApi(objStream(bucket), owner),
];

/** The caller-policy counters: every service that authenticates callers checks and counts them. */
const policyCounters = () => [
  ...kvAccess(buckets.policyInFlight, true),
  ...kvAccess(buckets.policyRate, true),
  ...kvAccess(buckets.policySpend, true),
];

/** Account info, which the JetStream client asks for before anything else. */
const JS_INFO = "$JS.API.INFO";
/** NATS micro-service discovery and stats of a service's own endpoints. */
const MICRO = "$SRV.>";

function servicePermissions(service: BusService): BusPermissions {
  const inbox = `${inboxPrefixOf(serviceUser(service))}.>`;
  switch (service) {
    case "executor":
      return {
        publish: [
          subjects.jobs.allEvents,
          subjects.control,
          subjects.queue.subject,
          JS_INFO,
          ...streamApi(subjects.queue.stream, true),
          ...kvAccess(buckets.jobs, true),
          ...objAccess(buckets.transcripts, true),
          ...objAccess(buckets.jobPayloads, true),
          ...policyCounters(),
          // Its jobs' CLIs report the plan's utilisation.
          ...kvAccess(buckets.plan, true),
        ],
        subscribe: [...Object.values(subjects.jobs.serve), subjects.control, MICRO, inbox],
        allowResponses: true,
      };
    case "openai-gateway":
      return {
        // Completions are admitted here (the gateway checked the caller's policy); it never uses
        // the plain submit subject, and it may read events but never publish them.
        publish: [
          subjects.jobs.serve.admit,
          subjects.jobs.serve.get,
          subjects.jobs.serve.cancel,
          // A client's results for its job's tool calls.
          subjects.jobs.serve.tools,
          JS_INFO,
          // Prompts and replies too large for a message travel through the payload store.
          ...objAccess(buckets.jobPayloads, false),
          ...policyCounters(),
          // Refuses completions while the plan is at its limit; runs no CLI, so never writes it.
          ...kvRead(buckets.plan),
        ],
        subscribe: [subjects.jobs.allEvents, inbox],
        allowResponses: false,
      };
    case "conversational":
      return {
        publish: [
          subjects.conversational.allReplicas,
          JS_INFO,
          ...kvAccess(buckets.conversations, true),
          ...objAccess(buckets.conversationTranscripts, true),
          ...policyCounters(),
          ...kvAccess(buckets.plan, true),
        ],
        subscribe: [subjects.conversational.serveTurn, subjects.conversational.allReplicas, MICRO, inbox],
        allowResponses: true,
      };
  }
}

/** An internal caller may act only as itself: its own request subjects, its own jobs' events. */
export function callerPermissions(principal: string): BusPermissions {
  return {
    publish: [
      subjects.jobs.submit(principal),
      subjects.jobs.get(principal),
      subjects.jobs.cancel(principal),
      subjects.jobs.tools(principal),
      subjects.conversational.turn(principal),
    ],
    subscribe: [subjects.jobs.principalEvents(principal), `${inboxPrefixOf(principal)}.>`],
    allowResponses: false,
  };
}

export class BusSourceError extends Error {
  override readonly name = "BusSourceError";
}

/** Every user of the bus: our services, then the internal callers (by their NATS names). */
export function busUsers(callerNames: readonly string[]): BusUser[] {
  const seen = new Set<string>();
  const callers = callerNames.map((name) => {
    const principal = principalId("nats", name);
    if (!PrincipalId.safeParse(principal).success)
      throw new BusSourceError(`caller '${name}': name too long`);
    if (seen.has(principal)) throw new BusSourceError(`caller '${name}' is listed twice`);
    seen.add(principal);
    return { user: principal, kind: "caller" as const, permissions: callerPermissions(principal) };
  });
  return [
    ...BUS_SERVICES.map((service) => ({
      user: serviceUser(service),
      kind: "service" as const,
      permissions: servicePermissions(service),
    })),
    ...callers,
  ];
}

/**
 * The environment variable a user's password is read from by nats-server (`$NAME` in its config)
 * and kept under in the secret: `NATS_PASSWORD_` + the user name upper-cased with `-` as `_2D`
 * (a principal writes every other byte as `_xx`, so the mapping is one-to-one).
 */
export function passwordVariable(user: string): string {
  return `NATS_PASSWORD_${user.replaceAll("-", "_2D").toUpperCase()}`;
}

export interface NatsServerConfigOptions {
  users: readonly BusUser[];
  /** `host:port` the server listens on (absent: nats-server's flags say). */
  listen?: string;
  /** JetStream's store directory (absent: JetStream is enabled by flags). */
  storeDir?: string;
  /** Where each user's password comes from: an env reference (default) or a literal (tests, dev). */
  password?: (user: string) => { env: string } | { literal: string };
  /** TLS for client connections (PEM files on the server). */
  tls?: { certFile: string; keyFile: string; caFile?: string; verifyClients?: boolean };
  /** Monitoring endpoint (`/healthz`, `/varz`) on this port, if any. */
  httpPort?: number;
  /** Extra users that exist only in tests, e.g. an observer that may read everything. */
  extraUsers?: readonly { user: string; password: string; permissions?: BusPermissions }[];
  /** Connections without credentials become this user. Tests only; never in a deployment. */
  noAuthUser?: string;
}

const quote = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(quote).join(", ")}]`;

function renderPermissions(p: BusPermissions, indent: string): string {
  return [
    `${indent}permissions: {`,
    `${indent}  publish: { allow: ${list(p.publish)} }`,
    `${indent}  subscribe: { allow: ${list(p.subscribe)} }`,
    ...(p.allowResponses ? [`${indent}  allow_responses: true`] : []),
    `${indent}}`,
  ].join("\n");
}

/** The nats-server configuration (its own format) for these users. */
export function renderNatsServerConfig(opts: NatsServerConfigOptions): string {
  const password = opts.password ?? ((user: string) => ({ env: passwordVariable(user) }));
  const users = opts.users.map((u) => {
    const pw = password(u.user);
    const value = "env" in pw ? `$${pw.env}` : quote(pw.literal);
    return [
      "    {",
      `      # ${u.kind === "service" ? "our service" : "internal caller"}`,
      `      user: ${quote(u.user)}`,
      `      password: ${value}`,
      renderPermissions(u.permissions, "      "),
      "    }",
    ].join("\n");
  });
  const extra = (opts.extraUsers ?? []).map((u) =>
    [
      "    {",
      `      user: ${quote(u.user)}`,
      `      password: ${quote(u.password)}`,
      ...(u.permissions ? [renderPermissions(u.permissions, "      ")] : []),
      "    }",
    ].join("\n"),
  );
  const tls = opts.tls
    ? [
        "tls {",
        `  cert_file: ${quote(opts.tls.certFile)}`,
        `  key_file: ${quote(opts.tls.keyFile)}`,
        ...(opts.tls.caFile ? [`  ca_file: ${quote(opts.tls.caFile)}`] : []),
        ...(opts.tls.verifyClients ? ["  verify: true"] : []),
        "}",
      ]
    : [];
  return [
    "# Generated from packages/contracts/src/bus.ts and the bus source's caller list: do not edit by hand.",
    ...(opts.listen !== undefined ? [`listen: ${quote(opts.listen)}`] : []),
    ...(opts.httpPort !== undefined ? [`http_port: ${opts.httpPort}`] : []),
    ...(opts.storeDir !== undefined ? [`jetstream { store_dir: ${quote(opts.storeDir)} }`] : []),
    ...tls,
    ...(opts.noAuthUser ? [`no_auth_user: ${quote(opts.noAuthUser)}`] : []),
    "authorization {",
    "  users: [",
    [...users, ...extra].join("\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
}
