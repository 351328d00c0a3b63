import { JobSubmission, MAX_TIMEOUT_SECONDS } from "@claude-gateway/contracts";
import { loadNatsServiceConfig, type NatsServiceConfig } from "@claude-gateway/nats";
import { ConfigError, LOG_LEVELS } from "@claude-gateway/service-kit";
import { z } from "zod";

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

/** Every variable the gateway reads, with its default. The README's table mirrors this. */
export const GatewayEnv = z
  .object({
    PORT: int(8080, 0),
    NATS_URL: z.string().default("nats://127.0.0.1:4222"),
    /**
     * The agent of a completion that asks for none: `assistant` has no tools. A request reaches
     * another agent only by asking for it (`metadata.agent`, `X-Claude-Agent`) if its policy lists it.
     */
    GATEWAY_AGENT: JobSubmission.shape.agent.default("assistant"),
    /** The caller policy (YAML or JSON), re-read when it changes; unset: the built-in safe defaults. */
    CALLER_POLICY_FILE: z.string().min(1).optional(),
    /** `--max-budget-usd` of each completion's job. */
    GATEWAY_BUDGET_USD: z.coerce.number().positive().max(1000).default(2),
    /** Execution limit of each completion's job (the wait in the executor's queue does not count). */
    GATEWAY_TIMEOUT_SECONDS: int(900).pipe(z.number().max(MAX_TIMEOUT_SECONDS)),
    /**
     * A repository every completion's job runs in (a checkout of it, as the executor's
     * `REPO_ALLOWLIST` permits); unset: an empty directory. `GATEWAY_REF`: its branch, tag or commit.
     */
    GATEWAY_REPO: JobSubmission.shape.repo,
    GATEWAY_REF: JobSubmission.shape.ref,
    /**
     * Hosts (exact names, optionally `host:port`), comma-separated, that image URLs may be fetched
     * from; empty (the default): only inline (data URL / base64) images are taken.
     */
    IMAGE_FETCH_ALLOWLIST: z
      .string()
      .default("")
      .transform((s) =>
        s
          .split(",")
          .map((h) => h.trim())
          .filter((h) => h !== ""),
      ),
    LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
    /** On SIGTERM, how long open requests may finish before they are cut (and their jobs cancelled). */
    SHUTDOWN_GRACE_SECONDS: int(30, 0),
  })
  .refine((e) => e.GATEWAY_REF === undefined || e.GATEWAY_REPO !== undefined, {
    message: "GATEWAY_REF needs GATEWAY_REPO",
    path: ["GATEWAY_REF"],
  });

export type GatewayConfig = NatsServiceConfig<typeof GatewayEnv>;

/** Parses the environment once, at start-up; fails with every problem listed. */
export function loadConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadNatsServiceConfig("openai-gateway", GatewayEnv, env);
}

export { ConfigError };
