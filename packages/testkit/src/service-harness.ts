import { chmod } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type BusService, DEFAULT_SUPPORTED_MODELS } from "@claude-gateway/contracts";
import { type ClaudeTestEnv, claudeTestEnv } from "./claude-cli.js";
import { tempDir } from "./git.js";
import { type MessagesStub, startMessagesStub } from "./messages-stub.js";
import { type NatsServer, startNatsServer } from "./nats-server.js";
import { writePermissivePolicy } from "./policy-file.js";

/** The repository's agent definitions, which the services load. */
export const AGENTS_DIR = fileURLToPath(new URL("../../../agents", import.meta.url));
/** The bearer token the services of a test world accept, as caller `tester`. */
export const TEST_TOKEN = "test-token-0123456789";
/** Headers of an authenticated JSON request to such a service. */
export const TEST_AUTH = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
/** The scraper's token for `/metrics` of the services of a test world (`METRICS_TOKEN`). */
export const TEST_METRICS_TOKEN = "test-metrics-token-0123456789";
/** Headers of a `/metrics` scrape of such a service. */
export const TEST_METRICS_AUTH = { authorization: `Bearer ${TEST_METRICS_TOKEN}` };
/** Quiet unless a test run asks for logs. */
export const TEST_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "silent";
/** What every service's in-process start takes in tests: loopback only, a short kill grace. */
export const IN_PROCESS = { hostname: "127.0.0.1", killGraceMs: 1000 } as const;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
export type Json = Record<string, any>;

/**
 * The env every service shares in tests: this NATS as the service's own bus user (the deployed
 * permissions), the test and metrics tokens, any free port, quiet logs.
 */
export function serviceTestEnv(nats: NatsServer, service: BusService): Record<string, string> {
  return {
    ...nats.envOf(service),
    AUTH_TOKENS: `tester=${TEST_TOKEN}`,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    PORT: "0",
    LOG_LEVEL: TEST_LOG_LEVEL,
  };
}

export interface ServiceWorldOptions<S> {
  /** Which of our services it starts: it connects to NATS as that service's bus user. */
  service: BusService;
  /** Prefix of the world's temp directory. */
  tmpPrefix: string;
  /** The bus's internal callers, and whether connections without credentials are refused. */
  bus?: { callers?: readonly string[]; anonymous?: boolean };
  /** The service's own variables on top of the shared ones, e.g. a workspace under `dir`. */
  env?: (dir: string) => Record<string, string>;
  /** The CLI variables a started service gets unless `start` names others (default: the test CLI's). */
  claudeEnv?: (cli: ClaudeTestEnv) => Record<string, string>;
  /** Starts one service in this process from its whole env (the service parses it as `main.ts` would). */
  start: (env: Record<string, string>, claudeEnv: Record<string, string>) => Promise<S>;
}

export interface ServiceWorld<S> {
  nats: NatsServer;
  stub: MessagesStub;
  cli: ClaudeTestEnv;
  /** The world's temp directory, removed by `close`. */
  dir: string;
  /** The env every service of this world shares (NATS, auth, agents, the service's own variables). */
  baseEnv(): Record<string, string>;
  /** A service in this process; `env` overrides `baseEnv()`, `claudeEnv` replaces the CLI's variables. */
  start(env?: Record<string, string>, claudeEnv?: Record<string, string>): Promise<S>;
  /** Stops every service it started, then the stub, the nats-server, the CLI's HOME and the temp dir. */
  close(): Promise<void>;
}

/**
 * A real nats-server, the Messages API stub, the real CLI's env and a temp dir, and services of one
 * kind started in this process on demand: what a service's integration tests run against.
 */
export async function createServiceWorld<S extends { stop(): Promise<void> }>(
  options: ServiceWorldOptions<S>,
): Promise<ServiceWorld<S>> {
  const nats = await startNatsServer({ bus: options.bus ?? {} });
  const stub = await startMessagesStub();
  const cli = await claudeTestEnv(stub.url);
  const tmp = await tempDir(options.tmpPrefix);
  // Runner users (an executor running as root isolates its agents) pass through to their checkouts;
  // the files in it that hold the services' secrets are the services' alone.
  await chmod(tmp.dir, 0o711);
  const services: S[] = [];
  // Tests that are not about the caller policy run under one that allows everything.
  const policy = await writePermissivePolicy(tmp.dir, AGENTS_DIR, { models: [...DEFAULT_SUPPORTED_MODELS] });
  const baseEnv = () => ({
    ...serviceTestEnv(nats, options.service),
    AGENTS_DIR,
    CALLER_POLICY_FILE: policy,
    SHUTDOWN_GRACE_SECONDS: "5",
    ...options.env?.(tmp.dir),
  });
  const defaultClaudeEnv = options.claudeEnv?.(cli) ?? cli.env;
  return {
    nats,
    stub,
    cli,
    dir: tmp.dir,
    baseEnv,
    async start(env = {}, claudeEnv = defaultClaudeEnv) {
      const service = await options.start({ ...baseEnv(), ...env }, claudeEnv);
      services.push(service);
      return service;
    },
    async close() {
      await Promise.all(services.map((s) => s.stop()));
      await stub.close();
      await nats.stop();
      await cli.cleanup();
      await tmp.cleanup();
    },
  };
}
