import { type AdapterFactory, createAdapters, type Fetch } from "@claude-gateway/afk-adapters";
import { ConfigError, describeConfig, loadConfig } from "@claude-gateway/afk-core";
import { createLogger, type Logger } from "./logger.js";
import { exitCodeOf, type PollerOutcome, pollerTick } from "./tick.js";

export interface RunIo {
  env: Readonly<Record<string, string | undefined>>;
  fetch: Fetch;
  logger?: Logger;
  now?: () => Date;
  newId?: () => string;
  /** Tests pass one that throws, to prove a disabled tick builds no adapter. */
  makeAdapters?: AdapterFactory;
}

export interface RunResult {
  exitCode: number;
  disabled: boolean;
  outcome?: PollerOutcome;
}

/**
 * One poller tick, start to finish. With either gate closed it logs why and returns before any
 * adapter (and so any network client) exists.
 */
export async function runPoller(io: RunIo): Promise<RunResult> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    (io.logger ?? createLogger("info")).error({ problems: err.problems }, "invalid configuration");
    return { exitCode: 1, disabled: false };
  }
  const logger = io.logger ?? createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn({ warning }, "configuration warning");
  if (!config.armed) {
    logger.info({ reasons: config.reasons }, "AFK loop disabled: poller did nothing");
    return { exitCode: 0, disabled: true };
  }
  logger.info({ config: describeConfig(config) }, "poller tick");
  const now = io.now ?? (() => new Date());
  const adapters = (io.makeAdapters ?? createAdapters)(config, {
    fetch: io.fetch,
    now,
    ...(io.newId ? { newId: io.newId } : {}),
  });
  const outcome = await pollerTick({ config, ...adapters, logger, now });
  return { exitCode: exitCodeOf(outcome), disabled: false, outcome };
}
