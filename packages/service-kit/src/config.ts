import { type AuthConfig, loadAuthConfig } from "@claude-gateway/auth";
import { loadModelPolicy, type ModelPolicy } from "@claude-gateway/contracts";
import type { z } from "zod";
import { ConfigError } from "./errors.js";

export { ConfigError };

export interface ServiceConfig<S extends z.ZodType> {
  env: z.output<S>;
  auth: AuthConfig;
  models: ModelPolicy;
}

/**
 * Parses a service's environment once, at start-up: its own zod schema, the shared auth and model
 * settings, and any cross-field checks. Fails with every problem listed, never with the first.
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
  try {
    models = loadModelPolicy(set);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (parsed.success && check) problems.push(...check(parsed.data));
  if (problems.length > 0 || !parsed.success || !auth || !models) {
    throw new ConfigError(problems, `${service} configuration`);
  }
  return { env: parsed.data, auth, models };
}

/** The log levels every service accepts in `LOG_LEVEL`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
