import { hostname, tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { loadNatsServiceConfig, type NatsServiceConfig } from "@claude-gateway/nats";
import { ConfigError, LOG_LEVELS } from "@claude-gateway/service-kit";
import { z } from "zod";
import { RunnerUserSetting } from "./sandbox/passwd.js";
import { SECRET_FILE_VARS } from "./sandbox/secret-files.js";
import { parseRepoAllowlist, type WorkspaceManagerOptions } from "./workspace/index.js";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
const num = (def: number) => z.coerce.number().positive().default(def);

const GiB = 1024 ** 3;
const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: GiB, t: 1024 ** 4 };

/** A size in bytes: a whole number, or one with a binary unit (`512Mi`, `20Gi`, `20GiB`, `1.5TiB`). */
export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])i(?:B)?)?$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (UNITS[(match[2] ?? "").toLowerCase()] ?? Number.NaN));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

const bytes = (def: number) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return def;
      const parsed = parseBytes(text);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: "a size in bytes, or with Ki, Mi, Gi or Ti (e.g. 20Gi)" });
        return z.NEVER;
      }
      return parsed;
    });

/**
 * Every variable the executor reads, with its default. The tables in services/executor/README.md
 * and the root README mirror this.
 */
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
  /**
   * How long a job paused on the model's calls of the caller's tools waits for their results (its
   * process and executor slot are held meanwhile); then it fails `tool_results_expired`.
   */
  TOOL_RESULTS_TIMEOUT_SECONDS: int(300),
  DEFAULT_JOB_BUDGET_USD: num(5),
  MAX_JOB_BUDGET_USD: num(50),
  /** Silence after which a running job's queue message goes to another replica. */
  ACK_WAIT_SECONDS: int(60),
  /**
   * A queued job whose queue message was never confirmed this long (its submitter died between
   * record and publish) is published again; also how often every replica looks.
   */
  QUEUE_SWEEP_SECONDS: int(30),
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
  /** The runner beside a non-root executor (services/executor/README.md): it runs every job's CLI. */
  RUNNER_SOCKET: z.string().optional(),
  /**
   * Prewarmed CLI processes per agent and model for stateless jobs of no-tools agents (the
   * gateway's completions); 0 disables. Each holds a runner user and ~230 MB while it waits.
   */
  PREWARM_POOL_SIZE: int(1, 0),
  /** How many agent-and-model pairs keep prewarmed processes: the ones used most recently. */
  PREWARM_MAX_KEYS: int(2),
  /** A prewarmed process this old is replaced. */
  PREWARM_MAX_AGE_SECONDS: int(1800),
  /** The agent prewarmed from the start (on its model, else DEFAULT_MODEL), if it is a no-tools agent. */
  PREWARM_AGENT: z.string().default("assistant"),
  /**
   * Runner users are `<RUNNER_USER>-0` … `<RUNNER_USER>-<n-1>`, created if missing, n =
   * MAX_CONCURRENCY + PREWARM_POOL_SIZE × PREWARM_MAX_KEYS.
   */
  RUNNER_USER: RunnerUserSetting,
  /** Which repositories jobs may clone (`workspace/allowlist.ts`); unset, none. */
  REPO_ALLOWLIST: z
    .string()
    .optional()
    .transform((text, ctx) => {
      const { allowlist, problems } = parseRepoAllowlist(text);
      for (const message of problems) ctx.addIssue({ code: "custom", message });
      return allowlist;
    }),
  /** git credential-store lines (a mounted secret) for the executor's own clones and fetches. */
  GIT_CREDENTIALS_FILE: z
    .string()
    .refine((path) => isAbsolute(path), "must be an absolute path")
    .optional(),
  /** A base clone no job cloned from for this long is removed. */
  BASE_TTL_SECONDS: int(7 * 24 * 3600),
  /** Over it, least recently used bases are removed, then new jobs wait for space. */
  WORKSPACE_MAX_BYTES: bytes(20 * GiB),
});

/** The workspace manager's settings from the environment (start.ts adds the logger and metrics). */
export function workspaceOptions(env: z.output<typeof ExecutorEnv>) {
  return {
    root: env.WORKSPACE_ROOT,
    ...(env.GIT_CRYPT_KEY_FILE ? { gitCryptKeyFile: env.GIT_CRYPT_KEY_FILE } : {}),
    ...(env.GIT_CREDENTIALS_FILE ? { credentialsFile: env.GIT_CREDENTIALS_FILE } : {}),
    allowlist: env.REPO_ALLOWLIST,
    baseTtlMs: env.BASE_TTL_SECONDS * 1000,
    maxBytes: env.WORKSPACE_MAX_BYTES,
    // Expiry is checked at start-up and then this often: a base outlives its TTL by at most this.
    maintenanceIntervalMs: Math.min(10 * 60_000, env.BASE_TTL_SECONDS * 1000),
  } satisfies WorkspaceManagerOptions;
}

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
