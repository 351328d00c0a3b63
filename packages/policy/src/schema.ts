import { PrincipalId, principalId } from "@claude-gateway/contracts";
import { z } from "zod";

/** What a caller may do; every key is required once defaults and the caller's entry are merged. */
export const Limits = z
  .object({
    /** Agents it may run (`agents/*.md` names). */
    agents: z.array(z.string().min(1)).max(100),
    /** Models it may ask for (each must also be in `SUPPORTED_MODELS`). */
    models: z.array(z.string().min(1)).max(100),
    /** Its jobs or turns running and waiting, at most. */
    maxConcurrent: z.number().int().min(1).max(10_000),
    /** Requests it may start per minute. */
    requestsPerMinute: z.number().int().min(1).max(1_000_000),
    /** What its runs may spend per UTC day, summed from the CLI's `total_cost_usd`. */
    budgetUsdPerDay: z.number().min(0).max(1_000_000),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

/** One caller's entry: any limit (overriding the defaults key by key), and `admin`. */
export const CallerEntry = Limits.partial()
  .extend({
    /** May read, list and cancel every caller's jobs and conversations, and see everyone's usage. */
    admin: z.boolean().optional(),
  })
  .strict();
export type CallerEntry = z.infer<typeof CallerEntry>;

/**
 * A caller as the policy names it: a bare name is a bearer token's name; `authentik:<user>` an
 * Authentik user; `nats:<user>` a NATS user; or a principal as records show it (`tok_ci`).
 */
export function principalOfKey(key: string): string {
  if (PrincipalId.safeParse(key).success) return key;
  const colon = key.indexOf(":");
  if (colon > 0) {
    const kind = key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (kind === "authentik") return principalId("ak", name);
    if (kind === "nats") return principalId("nats", name);
    if (kind === "token") return principalId("tok", name);
  }
  return principalId("tok", key);
}

const CallerKey = z
  .string()
  .min(1)
  .max(256)
  .refine((k) => !/^(authentik|nats|token):$/.test(k), "a prefixed caller needs a name");

/** The file `CALLER_POLICY_FILE` points at (YAML or JSON). Exactly these keys. */
export const CallerPolicyFile = z
  .object({
    /** For callers not listed, and for every key a listed caller leaves out. */
    defaults: Limits.partial().strict().optional(),
    callers: z.record(CallerKey, CallerEntry).optional(),
  })
  .strict();
export type CallerPolicyFile = z.infer<typeof CallerPolicyFile>;

/**
 * Without a policy file: the two no-tools agents, two models, two at a time, 30 a minute and
 * $2 a day per caller. A fresh install is safe; anything more is granted in the file.
 */
export const BUILT_IN_DEFAULTS: Limits = {
  agents: ["assistant", "conversational"],
  models: ["claude-haiku-4-5", "claude-sonnet-4-6"],
  maxConcurrent: 2,
  requestsPerMinute: 30,
  budgetUsdPerDay: 2,
};
