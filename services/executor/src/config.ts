import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { loadNatsServiceConfig, type NatsServiceConfig } from "@claude-gateway/nats";
import { ConfigError, LOG_LEVELS } from "@claude-gateway/service-kit";
import { z } from "zod";
import { runnerUserProblem } from "./sandbox/passwd.js";
import { SECRET_FILE_VARS } from "./sandbox/secret-files.js";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
const num = (def: number) => z.coerce.number().positive().default(def);

/** Every variable the executor reads, with its default. The README's table mirrors this. */
export const ExecutorEnv = z.object({
  PORT: int(8082, 0),
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  MAX_CONCURRENCY: int(10),
  MAX_QUEUE_DEPTH: int(1000),
  JOB_TTL_SECONDS: int(7 * 24 * 3600),
  WORKSPACE_ROOT: z.string().default(join(tmpdir(), "claude-gateway-executor")),
  GIT_CRYPT_KEY_FILE: z.string().optional(),
  AGENTS_DIR: z.string().optional(),
  CLAUDE_BIN: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  DEFAULT_JOB_TIMEOUT_SECONDS: int(900),
  DEFAULT_JOB_BUDGET_USD: num(5),
  MAX_JOB_BUDGET_USD: num(50),
  /** Silence after which a running job's queue message goes to another replica. */
  ACK_WAIT_SECONDS: int(60),
  SHUTDOWN_GRACE_SECONDS: int(30, 0),
  QUEUE_FULL_RETRY_AFTER_SECONDS: int(30),
  EXECUTOR_ID: z.string().default(`${hostname()}-${process.pid}`),
  /** The identity agents commit with in job checkouts. */
  GIT_USER_NAME: z.string().min(1).default("claude-gateway agent"),
  GIT_USER_EMAIL: z.string().min(3).default("agent@claude-gateway.invalid"),
  /** The caller policy (YAML or JSON); without it the built-in safe defaults apply. */
  CALLER_POLICY_FILE: z.string().optional(),
  /** `auto`: agents run as per-slot runner users when the executor is root, else it refuses to start. */
  AGENT_ISOLATION: z.enum(["auto", "users", "none"]).default("auto"),
  /** Runner users are `<RUNNER_USER>-0` … `<RUNNER_USER>-<MAX_CONCURRENCY-1>`, created if missing. */
  RUNNER_USER: z
    .string()
    .default("claude-runner")
    .superRefine((v, ctx) => {
      const problem = runnerUserProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
});

export type ExecutorConfig = NatsServiceConfig<typeof ExecutorEnv> & {
  /** The files holding this service's secrets, by variable: no runner user may read them. */
  secretFiles: Record<string, string>;
};

/** Parses the environment once, at start-up; fails with every problem listed. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ExecutorConfig {
  const config = loadNatsServiceConfig("executor", ExecutorEnv, env, (e) =>
    e.DEFAULT_JOB_BUDGET_USD > e.MAX_JOB_BUDGET_USD
      ? ["DEFAULT_JOB_BUDGET_USD must not exceed MAX_JOB_BUDGET_USD"]
      : [],
  );
  const secretFiles = Object.fromEntries(
    SECRET_FILE_VARS.flatMap((name) => (env[name] ? [[name, env[name]] as const] : [])),
  );
  return { ...config, secretFiles };
}

export { ConfigError };
