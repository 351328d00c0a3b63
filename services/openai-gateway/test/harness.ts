import {
  type JobEvent,
  JobEvent as JobEventSchema,
  JobRef,
  JobReply,
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
  /** A gateway in this process on 127.0.0.1; stopped by `close`. */
  gateway(env?: Record<string, string>): Promise<RunningGateway>;
  client(gateway: RunningGateway, apiKey?: string): OpenAI;
  job(id: string): Promise<JobReply["job"]>;
  /** Live CLI processes: only the executor's children carry the test HOME. */
  cliProcesses(): Promise<number[]>;
  /** Resolves once no CLI process is left. */
  noCliLeft(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real nats-server, the Messages API stub, the real CLI, a real executor in this process and
 * gateways on demand: the whole path an OpenAI client's request takes.
 */
export async function createWorld(executorEnv: Record<string, string> = {}): Promise<World> {
  const world = await createServiceWorld({
    tmpPrefix: "cg-oai-ws-",
    env: (dir) => ({ WORKSPACE_ROOT: dir }),
    // Tests run as root: the `general` agent skips permissions, which the CLI allows only in a sandbox.
    claudeEnv: (cli) => ({ ...cli.env, IS_SANDBOX: "1" }),
    start: (env, claudeEnv) =>
      startExecutor(loadExecutorConfig(env), {
        ...IN_PROCESS,
        claudeEnv,
        logger: pino({ level: TEST_LOG_LEVEL }),
      }),
  });
  const { nats, stub, cli } = world;
  const executor = await world.start(executorEnv);
  const nc = await connect({ servers: nats.url });
  const events: JobEvent[] = [];
  nc.subscribe(subjects.jobs.allEvents, {
    callback: (err, msg) => {
      if (!err) events.push(JobEventSchema.parse(msg.json()));
    },
  });
  await nc.flush();
  const gateways: RunningGateway[] = [];
  const cliProcesses = () => processesWithEnv({ HOME: cli.home });

  return {
    nats,
    stub,
    cli,
    executor,
    nc,
    events,
    async gateway(env = {}) {
      const config = loadConfig({ ...serviceTestEnv(nats.url), SHUTDOWN_GRACE_SECONDS: "2", ...env });
      const gw = await startGateway(config, {
        logger: pino({ level: TEST_LOG_LEVEL }),
        hostname: IN_PROCESS.hostname,
      });
      gateways.push(gw);
      return gw;
    },
    client: (gw, apiKey = TEST_TOKEN) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 }),
    job: async (id) =>
      (
        await request(nc, {
          subject: subjects.jobs.get,
          request: JobRef,
          response: JobReply,
          payload: { id },
        })
      ).job,
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
