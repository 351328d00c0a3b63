import {
  BUILT_IN_DEFAULTS,
  type CallerEntry,
  type CallerPolicyFile,
  type Limits,
  principalOfKey,
} from "./schema.js";

/** A caller's limits after merging the defaults with its own entry. */
export interface EffectiveLimits extends Limits {
  admin: boolean;
  /** Named in the policy (its name may become a metric label). */
  listed: boolean;
}

/** The caller policy in force: who may run what, how much and how often. Immutable. */
export class CallerPolicy {
  readonly #defaults: Limits;
  readonly #callers: ReadonlyMap<string, CallerEntry>;

  constructor(
    file: CallerPolicyFile,
    /** Where it came from, for logs and `/v1/usage`: a path, or "built-in". */
    readonly source: string,
  ) {
    this.#defaults = { ...BUILT_IN_DEFAULTS, ...file.defaults };
    const callers = new Map<string, CallerEntry>();
    for (const [key, entry] of Object.entries(file.callers ?? {})) {
      const principal = principalOfKey(key);
      if (callers.has(principal)) throw new RangeError(`two entries name the caller ${principal}`);
      callers.set(principal, entry);
    }
    this.#callers = callers;
  }

  /** The built-in safe policy, for a deployment without `CALLER_POLICY_FILE`. */
  static builtIn(): CallerPolicy {
    return new CallerPolicy({}, "built-in");
  }

  limitsFor(principal: string): EffectiveLimits {
    const entry = this.#callers.get(principal);
    const { admin, ...limits } = entry ?? {};
    return { ...this.#defaults, ...limits, admin: admin === true, listed: entry !== undefined };
  }

  /** The principals the policy names. */
  listed(): string[] {
    return [...this.#callers.keys()];
  }

  /** A caller's metric label: itself if the policy names it, else `other` (labels stay bounded). */
  metricLabel(principal: string): string {
    return this.#callers.has(principal) ? principal : "other";
  }
}
