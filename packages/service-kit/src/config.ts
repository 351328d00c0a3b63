import { type AuthConfig, loadAuthConfig } from "@claude-gateway/auth";
import { loadModelPolicy, type ModelPolicy } from "@claude-gateway/contracts";
import type { z } from "zod";
import { ConfigError } from "./errors.js";
import { loadMetricsToken } from "./metrics-access.js";

export { ConfigError };

export interface ServiceConfig<S extends z.ZodType> {
  env: z.output<S>;
  auth: AuthConfig;
  models: ModelPolicy;
  /** `METRICS_TOKEN`/`METRICS_TOKEN_FILE`: give it to `operationalRoutes`; absent, `/metrics` is a 503. */
  metricsToken: string | undefined;
}

/**
 * Parses a service's environment once, at start-up: its own zod schema, the shared auth, metrics
 * token and model settings, and any cross-field checks. Fails with every problem listed, never with the first.
 * Empty variables count as unset (Kubernetes and compose files often leave them empty).
 */
export function loadServiceConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  check?: (parsed: z.output<S>) => string[],
): ServiceConfig<S> {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const problems: string[] = [];
  const parsed = schema.safeParse(set);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  let auth: AuthConfig | undefined;
  let models: ModelPolicy | undefined;
  try {
    auth = loadAuthConfig(set);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const metrics = loadMetricsToken(set);
  problems.push(...metrics.problems);
  // A caller's token must not double as the scraper's: each can then be revoked on its own.
  const sameAsCaller = auth?.tokens.find((t) => t.token === metrics.token);
  if (sameAsCaller)
    problems.push(`METRICS_TOKEN: the same as the token of "${sameAsCaller.name}"; give it its own`);
  try {
    models = loadModelPolicy(set);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (parsed.success && check) problems.push(...check(parsed.data));
  if (problems.length > 0 || !parsed.success || !auth || !models) {
    throw new ConfigError(problems, `${service} configuration`);
  }
  return { env: parsed.data, auth, models, metricsToken: metrics.token };
}

/** The log levels every service accepts in `LOG_LEVEL`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
