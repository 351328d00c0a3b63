import {
  type AfkConfig,
  ConfigError,
  describeConfig,
  type LogLevel,
  loadConfig,
} from "@claude-gateway/afk-core";
import type { Logger } from "@claude-gateway/service-kit/log";
import { type AdapterFactory, type Adapters, createAdapters } from "./create-adapters.js";
import type { Fetch } from "./http.js";

/** The logger a tick calls (the workspace's one interface; a pino logger fits as is). */
export type TickLogger = Logger;

export interface RunIo {
  env: Readonly<Record<string, string | undefined>>;
  fetch: Fetch;
  logger?: TickLogger;
  now?: () => Date;
  newId?: () => string;
  /** Tests pass one that throws, to prove a disabled tick builds no adapter. */
  makeAdapters?: AdapterFactory;
}

export interface RunResult<O> {
  exitCode: number;
  disabled: boolean;
  outcome?: O;
}

export interface TickSpec<O> {
  /** `poller` or `watcher`, for the log lines. */
  name: string;
  createLogger: (level: LogLevel) => TickLogger;
  tick: (deps: Adapters & { config: AfkConfig; logger: TickLogger; now: () => Date }) => Promise<O>;
  exitCodeOf: (outcome: O) => number;
}

/**
 * One tick, start to finish, for either CronJob. With either gate closed it logs why and returns
 * before any adapter (and so any network client) exists.
 */
export async function runTick<O>(spec: TickSpec<O>, io: RunIo): Promise<RunResult<O>> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    (io.logger ?? spec.createLogger("info")).error({ problems: err.problems }, "invalid configuration");
    return { exitCode: 1, disabled: false };
  }
  const logger = io.logger ?? spec.createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn({ warning }, "configuration warning");
  if (!config.armed) {
    logger.info({ reasons: config.reasons }, `AFK loop disabled: ${spec.name} did nothing`);
    return { exitCode: 0, disabled: true };
  }
  logger.info({ config: describeConfig(config) }, `${spec.name} tick`);
  const now = io.now ?? (() => new Date());
  const adapters = (io.makeAdapters ?? createAdapters)(config, {
    fetch: io.fetch,
    now,
    ...(io.newId ? { newId: io.newId } : {}),
  });
  const outcome = await spec.tick({ config, ...adapters, logger, now });
  return { exitCode: spec.exitCodeOf(outcome), disabled: false, outcome };
}
