import { ConfigError, LOG_LEVELS } from "@claude-gateway/service-kit";
import { z } from "zod";
import { RunnerUserSetting } from "../sandbox/passwd.js";

const id = (def: number) => z.coerce.number().int().min(1).default(def);

/** Every variable the runner reads, with its default (the README's runner table mirrors it). */
export const RunnerEnv = z.object({
  /** Where it listens; the executor's RUNNER_SOCKET. Its directory becomes root's, mode 0755. */
  RUNNER_SOCKET: z.string().default("/run/claude-gateway/runner.sock"),
  /** The executor's user and group: the only ones that may connect; they own WORKSPACE_ROOT. */
  RUNNER_CLIENT_UID: id(10001),
  RUNNER_CLIENT_GID: id(10001),
  /** The executor's WORKSPACE_ROOT (the volume they share). */
  WORKSPACE_ROOT: z.string().default("/work"),
  RUNNER_USER: RunnerUserSetting,
  /** Jobs at once: at least the executor's MAX_CONCURRENCY (one runner user each). */
  RUNNER_SLOTS: id(10),
  CLAUDE_BIN: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
});
export type RunnerConfig = z.output<typeof RunnerEnv>;

export function loadRunnerConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = RunnerEnv.safeParse(set);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      "runner configuration",
    );
  }
  return parsed.data;
}
