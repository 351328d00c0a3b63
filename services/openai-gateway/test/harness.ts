import {
  type JobEvent,
  JobEvent as JobEventSchema,
  JobRef,
  JobReply,
  principalId,
  subjects,
} from "@claude-gateway/contracts";
import {
  loadConfig as loadExecutorConfig,
  type RunningExecutor,
  startExecutor,
} from "@claude-gateway/executor/testing";
import { request } from "@claude-gateway/nats";
import {
  type ClaudeTestEnv,
  createServiceWorld,
  eventually,
  IN_PROCESS,
  type MessagesStub,
  type NatsServer,
  processesWithEnv,
  serviceTestEnv,
  TEST_LOG_LEVEL,
  TEST_TOKEN,
} from "@claude-gateway/testkit";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import OpenAI from "openai";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { type RunningGateway, startGateway } from "../src/start.js";

export interface World {
  nats: NatsServer;
  stub: MessagesStub;
  cli: ClaudeTestEnv;
  executor: RunningExecutor;
  /** The test's own NATS connection, to read job records as the executor has them. */
  nc: NatsConnection;
  /** Every job event published, in order of arrival. */
  events: JobEvent[];
  /** The env a gateway of this world runs with: `env` over NATS, auth and the world's policy. */
  gatewayEnv(env?: Record<string, string>): Record<string, string>;
  /** A gateway in this process on 127.0.0.1; stopped by `close`. */
  gateway(env?: Record<string, string>): Promise<RunningGateway>;
  client(gateway: RunningGateway, apiKey?: string): OpenAI;
  /** A job as its owner (default: the test token's caller) reads it over NATS. */
  job(id: string, caller?: string): Promise<JobReply["job"]>;
  /** Stops the executor and starts another with this world's env, sandboxed or not. */
  restartExecutor(opts: { sandbox: boolean }): Promise<RunningExecutor>;
  /** Live CLI processes: only the executor's children carry the test HOME. */
  cliProcesses(): Promise<number[]>;
  /** Resolves once no CLI process is left. */
  noCliLeft(): Promise<void>;
  close(): Promise<void>;
}

/** The principal of the test token's caller (`tester`). */
export const TESTER = principalId("tok", "tester");

export interface WorldOptions {
  /**
   * Tell the CLI it runs in a sandbox (`IS_SANDBOX=1`), default true: tests run as root, and the
   * `general` agent skips permissions, which the CLI allows root only in a sandbox. Without it,
   * the executor runs the CLI as a root deployment would.
   */
  sandbox?: boolean;
  /**
   * Log the CLI in as a subscription would (a dummy `CLAUDE_CODE_OAUTH_TOKEN`, no API key; the
   * stub checks no credential): only then does it report the plan's utilisation.
   */
  oauth?: boolean;
}

/** The dummy subscription token of an `oauth` world. */
export const TEST_OAUTH_TOKEN = "sk-ant-oat01-test-dummy";

/**
 * A real nats-server, the Messages API stub, the real CLI, a real executor in this process and
 * gateways on demand: the whole path an OpenAI client's request takes. `executorEnv` overrides the
 * world's env (e.g. `CALLER_POLICY_FILE`, which gateways should then get too).
 */
export async function createWorld(
  executorEnv: Record<string, string> = {},
  opts: WorldOptions = {},
): Promise<World> {
  const sandboxed = (cli: ClaudeTestEnv, sandbox: boolean) => {
    const { ANTHROPIC_API_KEY, ...rest } = cli.env;
    const login = opts.oauth
      ? { ...rest, CLAUDE_CODE_OAUTH_TOKEN: TEST_OAUTH_TOKEN }
      : { ...rest, ...(ANTHROPIC_API_KEY !== undefined ? { ANTHROPIC_API_KEY } : {}) };
    return sandbox ? { ...login, IS_SANDBOX: "1" } : login;
  };
  const world = await createServiceWorld({
    service: "executor",
    tmpPrefix: "cg-oai-ws-",
    env: (dir) => ({
      WORKSPACE_ROOT: dir,
      // These suites count the CLI processes a completion leaves; `prewarm.test.ts` turns the
      // executor's pool of prewarmed processes on.
      PREWARM_POOL_SIZE: "0",
      // As root (CI) agents run as runner users; a developer's own user cannot switch users.
      ...(process.getuid?.() === 0 ? {} : { AGENT_ISOLATION: "none" }),
    }),
    claudeEnv: (cli) => sandboxed(cli, opts.sandbox ?? true),
    start: (env, claudeEnv) =>
      startExecutor(loadExecutorConfig(env), {
        ...IN_PROCESS,
        claudeEnv,
        logger: pino({ level: TEST_LOG_LEVEL }),
      }),
  });
  const { nats, stub, cli } = world;
  let executor = await world.start(executorEnv);
  const nc = await connect({ servers: nats.url });
  const events: JobEvent[] = [];
  nc.subscribe(subjects.jobs.allEvents, {
    callback: (err, msg) => {
      if (!err) events.push(JobEventSchema.parse(msg.json()));
    },
  });
  await nc.flush();
  const gateways: RunningGateway[] = [];
  const gatewayEnv = (env: Record<string, string> = {}) => ({
    ...serviceTestEnv(nats, "openai-gateway"),
    // The world's policy (the permissive one, unless the executor was given another).
    CALLER_POLICY_FILE: { ...world.baseEnv(), ...executorEnv }.CALLER_POLICY_FILE ?? "",
    SHUTDOWN_GRACE_SECONDS: "2",
    ...env,
  });
  // Each job has its own HOME (and user): the stub's address is what every CLI of this world shares.
  const cliProcesses = () => processesWithEnv({ ANTHROPIC_BASE_URL: cli.env.ANTHROPIC_BASE_URL! });

  return {
    nats,
    stub,
    cli,
    get executor() {
      return executor;
    },
    nc,
    events,
    gatewayEnv,
    async gateway(env = {}) {
      const config = loadConfig(gatewayEnv(env));
      const gw = await startGateway(config, {
        logger: pino({ level: TEST_LOG_LEVEL }),
        hostname: IN_PROCESS.hostname,
        // A stream's headers wait for its first text or its end: a job failing before any text is
        // a plain HTTP error. The product holds 5 s; a loaded machine starts a CLI slower than that,
        // and these tests assert the error, not the hold (unit-tested in src/app.test.ts).
        holdMs: 60_000,
      });
      gateways.push(gw);
      return gw;
    },
    client: (gw, apiKey = TEST_TOKEN) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 }),
    job: async (id, caller = TESTER) =>
      (
        await request(nc, {
          subject: subjects.jobs.get(caller),
          request: JobRef,
          response: JobReply,
          payload: { id },
        })
      ).job,
    async restartExecutor({ sandbox }) {
      await executor.stop();
      executor = await world.start(executorEnv, sandboxed(cli, sandbox));
      return executor;
    },
    cliProcesses,
    noCliLeft: async () => {
      await eventually(async () => (await cliProcesses()).length === 0, { what: "no CLI process left" });
    },
    async close() {
      await Promise.all(gateways.map((g) => g.stop()));
      await nc.close();
      await world.close();
    },
  };
}
