import { hostname } from "node:os";
import { isAbsolute } from "node:path";
import { SUBJECT_TOKEN } from "@claude-gateway/contracts";
import { loadNatsServiceConfig, type NatsServiceConfig } from "@claude-gateway/nats";
import { ConfigError, LOG_LEVELS } from "@claude-gateway/service-kit";
import { z } from "zod";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

/** Every variable the service reads, with its default. The README's table mirrors this. */
export const ConversationalEnv = z.object({
  PORT: int(8081, 0),
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Idle time after which a conversation (record and transcript) is forgotten. */
  CONVERSATION_TTL_SECONDS: int(86_400),
  /** Wall-clock limit of one turn's CLI run. */
  CONVERSATIONAL_TIMEOUT_SECONDS: int(60),
  /**
   * The working directory of every turn. The CLI files sessions under a folder named after the
   * cwd, so every replica must use the same path.
   */
  CONVERSATION_CWD: z
    .string()
    .refine(isAbsolute, "must be an absolute path")
    .default("/tmp/claude-gateway-conversational/cwd"),
  /**
   * Added to the turn timeout for the longest a turn can hold its caller's in-flight lease and a
   * forwarded turn may take.
   */
  CONVERSATION_LOCK_GRACE_SECONDS: int(30),
  /**
   * A conversation's lock and a replica's liveness are leases in KV renewed every third of this:
   * not renewed for this long, their holder counts as dead and its conversations are taken over.
   */
  CONVERSATION_LEASE_SECONDS: int(10, 2),
  /** On SIGTERM, how long running turns may finish before they are cancelled. */
  SHUTDOWN_GRACE_SECONDS: int(30, 0),
  /**
   * Live CLI processes on this replica: turns running, warm conversations and the prewarmed pool
   * together (the replica's memory budget, counted in processes). One holds ~230 MB idle and peaks
   * near 340 MB; a 2 GiB pod less ~150 MB for the service leaves ~1.9 GB: 5 peaks (1.7 GB) fit,
   * 6 (2.04 GB) do not.
   */
  CONVERSATIONAL_MAX_CONCURRENCY: int(5),
  /** A conversation's warm CLI process idle this long is closed; 0: every turn's process closes after it. */
  WARM_IDLE_SECONDS: int(300, 0),
  /** Prewarmed CLI processes per model new conversations use; 0: no pool. */
  PREWARM_POOL_SIZE: int(1, 0),
  /** A prewarmed process this old is replaced (a fresh login token, a fresh start). */
  PREWARM_MAX_AGE_SECONDS: int(1800),
  /** How many models keep a prewarmed pool: the ones new conversations used most recently. */
  PREWARM_MAX_MODELS: int(2),
  /** How long a turn over that cap waits in line for a slot before a 429 `too_many_turns`. */
  CONVERSATIONAL_QUEUE_WAIT_SECONDS: int(5, 0),
  /** The caller policy (YAML or JSON), re-read on change; without it the built-in safe defaults. */
  CALLER_POLICY_FILE: z.string().min(1).optional(),
  AGENTS_DIR: z.string().optional(),
  CLAUDE_BIN: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  /**
   * This replica's name in logs, lock records and the subject turns are forwarded to: letters,
   * digits, `_` and `-` (a NATS subject token).
   */
  REPLICA_ID: z
    .string()
    .regex(SUBJECT_TOKEN, "letters, digits, _ and - only (it is a NATS subject token)")
    .default(
      `${hostname()
        .replace(/[^A-Za-z0-9_-]/g, "-")
        .slice(0, 100)}-${process.pid}`,
    ),
});

export type ConversationalConfig = NatsServiceConfig<typeof ConversationalEnv>;

/** Parses the environment once, at start-up; fails with every problem listed. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ConversationalConfig {
  return loadNatsServiceConfig("conversational", ConversationalEnv, env);
}

export { ConfigError };
