import { type AuthConfig, loadAuthConfig } from "@claude-gateway/auth";
import {
  JobSubmission,
  loadModelPolicy,
  MAX_TIMEOUT_SECONDS,
  type ModelPolicy,
} from "@claude-gateway/contracts";
import { z } from "zod";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

/** Every variable the gateway reads, with its default. The README's table mirrors this. */
export const GatewayEnv = z.object({
  PORT: int(8080, 0),
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  /** The agent every completion runs as. */
  GATEWAY_AGENT: JobSubmission.shape.agent.default("general"),
  /** `--max-budget-usd` of each completion's job. */
  GATEWAY_BUDGET_USD: z.coerce.number().positive().max(1000).default(2),
  /** Execution limit of each completion's job (the wait in the executor's queue does not count). */
  GATEWAY_TIMEOUT_SECONDS: int(900).pipe(z.number().max(MAX_TIMEOUT_SECONDS)),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** On SIGTERM, how long open requests may finish before they are cut (and their jobs cancelled). */
  SHUTDOWN_GRACE_SECONDS: int(30, 0),
});

export interface GatewayConfig {
  env: z.infer<typeof GatewayEnv>;
  auth: AuthConfig;
  models: ModelPolicy;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parses the environment once, at start-up; fails with every problem listed. */
export function loadConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const parsed = GatewayEnv.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  let auth: AuthConfig | undefined;
  let models: ModelPolicy | undefined;
  try {
    auth = loadAuthConfig(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  try {
    models = loadModelPolicy(env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || !parsed.success || !auth || !models) {
    throw new ConfigError(`invalid openai-gateway configuration:\n- ${problems.join("\n- ")}`);
  }
  return { env: parsed.data, auth, models };
}
