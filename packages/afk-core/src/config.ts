import { ConfigError } from "@claude-gateway/service-kit/errors";
import { z } from "zod";
import { PROGRESS_PHASES, type ProgressPhase, type RunLimits } from "./types.js";
import { workspaceTemplateProblems } from "./workspace-root.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ""));

/** Every variable the armed loop reads, with its default. The README's table mirrors this. */
export const AfkEnv = z.object({
  AFK_TRACKER: z.enum(["forgejo", "github"]).default("forgejo"),
  AFK_TRACKER_URL: url.optional(),
  AFK_TRACKER_TOKEN: z.string().min(1),
  T3_URL: url,
  T3_TOKEN: z.string().min(1),
  T3_WORKSPACE_ROOT: z.string().min(1),
  T3_MODEL: z.string().min(1).default("claude-sonnet-4-6"),
  T3_MODEL_INSTANCE: z.string().min(1).default("claudeAgent"),
  SLACK_WEBHOOK_URL: url,
  MAX_FIX_FORWARDS: int(3, 0),
  STALL_MINUTES: int(60),
  AFK_STALL_MINUTES_BY_PHASE: z.string().default(""),
  AFK_MAX_DISPATCH_PER_TICK: int(1),
  AFK_QUEUE_STALL_MINUTES: int(240),
  AFK_T3_UNREACHABLE_MINUTES: int(30),
  AFK_DEPLOY_CONTEXT: z.string().default(""),
  AFK_LABEL_READY: z.string().min(1).default("ready-for-agent"),
  AFK_LABEL_IN_PROGRESS: z.string().min(1).default("agent-in-progress"),
  AFK_LABEL_HUMAN: z.string().min(1).default("ready-for-human"),
  AFK_LABEL_STALLED: z.string().min(1).default("agent-stalled"),
  AFK_HTTP_TIMEOUT_MS: int(15_000),
});

export interface Labels {
  ready: string;
  inProgress: string;
  human: string;
  /** Put on a lock holder once the poller rang about the queue stalling behind it. */
  stalled: string;
}

export interface AfkConfig {
  armed: true;
  logLevel: LogLevel;
  allowlist: string[];
  tracker: { kind: "forgejo" | "github"; url: string; token: string };
  t3: { url: string; token: string; workspaceRootTemplate: string; model: string; modelInstance: string };
  slackWebhookUrl: string;
  labels: Labels;
  limits: RunLimits & {
    maxDispatchPerTick: number;
    queueStallMinutes: number;
    /** T3 unreachable or off-contract this long ⇒ the doorbell rings (once per outage). */
    t3UnreachableMinutes: number;
  };
  /** The commit status / check name that means "deployed"; null when nothing deploys. */
  deployContext: string | null;
  httpTimeoutMs: number;
  warnings: string[];
}

export interface DisarmedConfig {
  armed: false;
  logLevel: LogLevel;
  /** Which gate is closed, in words for the log. */
  reasons: string[];
  warnings: string[];
}

export { ConfigError };

type Env = Readonly<Record<string, string | undefined>>;

const SWITCH_ON = new Set(["on", "1", "true", "yes"]);
const SWITCH_OFF = new Set(["off", "0", "false", "no"]);

/** The kill switch is on unless it says off in so many words: a typo keeps the loop stopped. */
function killSwitch(raw: string | undefined, warnings: string[]): boolean {
  const value = (raw ?? "").trim().toLowerCase();
  if (value === "" || SWITCH_ON.has(value)) return true;
  if (SWITCH_OFF.has(value)) return false;
  warnings.push(`AFK_KILL_SWITCH=${JSON.stringify(raw)} is neither on nor off: treated as on`);
  return true;
}

export function parseAllowlist(raw: string | undefined): { repos: string[]; invalid: string[] } {
  const entries = (raw ?? "").split(/[\s,]+/).filter((e) => e.length > 0);
  return {
    repos: [...new Set(entries.filter((e) => REPO.test(e)))],
    invalid: entries.filter((e) => !REPO.test(e)),
  };
}

/** `ci-running=30,dispatched=120` → per-phase stall limits. */
export function parseStallByPhase(raw: string): {
  limits: Partial<Record<ProgressPhase, number>>;
  problems: string[];
} {
  const limits: Partial<Record<ProgressPhase, number>> = {};
  const problems: string[] = [];
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [phase = "", minutes = ""] = entry.split("=").map((p) => p.trim());
    const n = Number(minutes);
    if (!(PROGRESS_PHASES as readonly string[]).includes(phase)) {
      problems.push(`AFK_STALL_MINUTES_BY_PHASE: unknown phase ${JSON.stringify(phase)}`);
    } else if (!Number.isInteger(n) || n < 1) {
      problems.push(`AFK_STALL_MINUTES_BY_PHASE: ${phase} needs a whole number of minutes >= 1`);
    } else {
      limits[phase as ProgressPhase] = n;
    }
  }
  return { limits, problems };
}

function logLevel(raw: string | undefined, warnings: string[]): LogLevel {
  if (raw === undefined || raw === "") return "info";
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  warnings.push(`LOG_LEVEL=${JSON.stringify(raw)} is not a pino level: using info`);
  return "info";
}

/**
 * Parses the environment once, at start-up. Arming needs both gates open: the kill switch cleared
 * AND the exact repositories listed. With a gate closed nothing else is required (or even read), so
 * an empty environment is a valid, disabled loop. An armed loop fails with every problem listed.
 */
export function loadConfig(env: Env = process.env): AfkConfig | DisarmedConfig {
  const warnings: string[] = [];
  const level = logLevel(env.LOG_LEVEL, warnings);
  const killed = killSwitch(env.AFK_KILL_SWITCH, warnings);
  const allow = parseAllowlist(env.AFK_REPO_ALLOWLIST);
  const reasons: string[] = [];
  if (killed) reasons.push("AFK_KILL_SWITCH is on");
  if (allow.repos.length === 0 && allow.invalid.length === 0) reasons.push("AFK_REPO_ALLOWLIST is empty");
  if (reasons.length > 0) {
    if (allow.invalid.length > 0)
      warnings.push(`AFK_REPO_ALLOWLIST: not owner/name: ${allow.invalid.join(", ")}`);
    return { armed: false, logLevel: level, reasons, warnings };
  }

  const problems: string[] = [];
  if (allow.invalid.length > 0) {
    problems.push(`AFK_REPO_ALLOWLIST: not owner/name (no wildcards): ${allow.invalid.join(", ")}`);
  }
  const parsed = AfkEnv.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  const byPhase = parseStallByPhase(env.AFK_STALL_MINUTES_BY_PHASE ?? "");
  problems.push(...byPhase.problems);
  if ((env.AFK_TRACKER ?? "forgejo") === "forgejo" && !env.AFK_TRACKER_URL) {
    problems.push("AFK_TRACKER_URL: required for forgejo (the server's base URL)");
  }
  if (parsed.success) {
    const e = parsed.data;
    problems.push(...workspaceTemplateProblems(e.T3_WORKSPACE_ROOT, allow.repos));
    const labels = [e.AFK_LABEL_READY, e.AFK_LABEL_IN_PROGRESS, e.AFK_LABEL_HUMAN, e.AFK_LABEL_STALLED];
    if (new Set(labels).size !== labels.length) problems.push("AFK_LABEL_*: the four labels must differ");
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems, "AFK configuration");
  const e = parsed.data;
  return {
    armed: true,
    logLevel: level,
    allowlist: allow.repos,
    tracker: {
      kind: e.AFK_TRACKER,
      url: e.AFK_TRACKER_URL ?? "https://api.github.com",
      token: e.AFK_TRACKER_TOKEN,
    },
    t3: {
      url: e.T3_URL,
      token: e.T3_TOKEN,
      workspaceRootTemplate: e.T3_WORKSPACE_ROOT,
      model: e.T3_MODEL,
      modelInstance: e.T3_MODEL_INSTANCE,
    },
    slackWebhookUrl: e.SLACK_WEBHOOK_URL,
    labels: {
      ready: e.AFK_LABEL_READY,
      inProgress: e.AFK_LABEL_IN_PROGRESS,
      human: e.AFK_LABEL_HUMAN,
      stalled: e.AFK_LABEL_STALLED,
    },
    limits: {
      maxFixForwards: e.MAX_FIX_FORWARDS,
      stallMinutes: e.STALL_MINUTES,
      stallMinutesByPhase: byPhase.limits,
      maxDispatchPerTick: e.AFK_MAX_DISPATCH_PER_TICK,
      queueStallMinutes: e.AFK_QUEUE_STALL_MINUTES,
      t3UnreachableMinutes: e.AFK_T3_UNREACHABLE_MINUTES,
    },
    deployContext: e.AFK_DEPLOY_CONTEXT.trim() || null,
    httpTimeoutMs: e.AFK_HTTP_TIMEOUT_MS,
    warnings,
  };
}

/** The configuration without its secrets, for the start-up log line. */
export function describeConfig(config: AfkConfig | DisarmedConfig): Record<string, unknown> {
  if (!config.armed) return { armed: false, reasons: config.reasons };
  return {
    armed: true,
    allowlist: config.allowlist,
    tracker: { kind: config.tracker.kind, url: config.tracker.url },
    t3: { url: config.t3.url, workspaceRoot: config.t3.workspaceRootTemplate, model: config.t3.model },
    labels: config.labels,
    limits: config.limits,
    deployContext: config.deployContext,
  };
}
