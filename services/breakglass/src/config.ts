import { join } from "node:path";
import { ConfigError, LOG_LEVELS, loadServiceConfig, type ServiceConfig } from "@claude-gateway/service-kit";
import { z } from "zod";
import { DEFAULT_READONLY_COMMANDS, parseReadOnlyList } from "./core/command-gate.js";
import { hostNameProblem, userProblem } from "./core/ssh-files.js";

const int = (def: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const num = (def: number) => z.coerce.number().positive().default(def);
const refine = (check: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const problem = check(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
const hostName = refine(hostNameProblem);
const userName = refine(userProblem);

/** Every variable breakglass reads, with its default. The README's table mirrors this. */
export const BreakglassEnv = z.object({
  PORT: int(8083, 0, 65535),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  AGENTS_DIR: z.string().optional(),
  CLAUDE_BIN: z.string().optional(),
  HOME: z.string().optional(),
  /** Where every turn runs (one cwd, so `--resume` finds every session). */
  WORK_DIR: z.string().optional(),
  TURN_TIMEOUT_SECONDS: int(1800),
  /** The agent's Bash tool timeout (default and maximum): `ssh pve cycle` can take minutes. */
  AGENT_COMMAND_TIMEOUT_SECONDS: int(600, 1, 3600),
  TURN_BUDGET_USD: num(5),
  /** Each CLI peaks near 330 MB; the pod's memory limit is 1 GiB. */
  MAX_CONCURRENT_TURNS: int(2),
  MAX_SESSIONS: int(50),
  SHUTDOWN_GRACE_SECONDS: int(30, 0),
  /** Shown in the UI and logs; the Proxmox host's forced command has its own (authoritative) copy. */
  PVE_VMID: int(102, 100, 999_999_999),
  SSH_DEVVM_HOST: hostName.optional(),
  SSH_DEVVM_USER: userName.default("root"),
  SSH_DEVVM_PORT: int(22, 1, 65535),
  SSH_PVE_HOST: hostName.optional(),
  SSH_PVE_USER: userName.default("root"),
  SSH_PVE_PORT: int(22, 1, 65535),
  SSH_KEY_FILE: z.string().optional(),
  SSH_KNOWN_HOSTS_FILE: z.string().optional(),
  SSH_BIN: z.string().default("ssh"),
  SSH_AGENT_BIN: z.string().default("ssh-agent"),
  SSH_ADD_BIN: z.string().default("ssh-add"),
  /** A cycle waits for a clean shutdown on the host (up to its own timeout) and then a start. */
  VM_VERB_TIMEOUT_SECONDS: int(300),
  VM_OUTPUT_MAX_BYTES: int(64 * 1024, 1024),
  /**
   * VM commands the agent runs without asking the operator: exact remote commands separated by
   * `;` (none may hold shell syntax). Every other `ssh devvm …` and every power verb asks.
   */
  BREAKGLASS_READONLY_COMMANDS: z
    .string()
    .superRefine((v, ctx) => {
      for (const problem of parseReadOnlyList(v).problems) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((v) => parseReadOnlyList(v).commands)
    .default([...DEFAULT_READONLY_COMMANDS]),
  /** How long a permission prompt waits for the operator; no answer is a deny. */
  BREAKGLASS_PROMPT_TIMEOUT_SECONDS: int(300, 1, 86_400),
  /**
   * The console's origin as browsers see it (`https://breakglass.example.com`): cookie-authenticated
   * changes must come from it. Unset: the host the request was sent to.
   */
  BREAKGLASS_PUBLIC_ORIGIN: z
    .string()
    .superRefine((v, ctx) => {
      const problem = originProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((v) => new URL(v).origin)
    .optional(),
});

/** Why `value` is not a bare http(s) origin (scheme, host, optional port; no path, query or fragment). */
function originProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL; expected an origin such as https://breakglass.example.com";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http(s) origin";
  if (
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  )
    return "must be an origin only (scheme, host, port), without a path";
  return undefined;
}

export type BreakglassEnvValues = z.infer<typeof BreakglassEnv>;

/** The environment, the shared auth and model settings, and where turns run. */
export interface BreakglassConfig extends ServiceConfig<typeof BreakglassEnv> {
  workDir: string;
}

/**
 * Parses the environment once, at start-up (service-kit's loader: the shared auth and model
 * settings too); fails with every problem listed. Empty values count as unset.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): BreakglassConfig {
  const config = loadServiceConfig("breakglass", BreakglassEnv, env, (e) =>
    workDirOf(e) ? [] : ["WORK_DIR: set it or HOME"],
  );
  // The check above refused a configuration without one.
  return { ...config, workDir: workDirOf(config.env)! };
}

const workDirOf = (env: BreakglassEnvValues): string | undefined =>
  env.WORK_DIR ?? (env.HOME ? join(env.HOME, "breakglass") : undefined);

export { ConfigError };
