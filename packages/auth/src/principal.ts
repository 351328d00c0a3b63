/** Who made the request, as established by the auth middleware. */
export interface Principal {
  /**
   * Who, as one string for records, KV keys, subjects and metric labels: `tok_<token name>` or
   * `ak_<Authentik user>`, encoded by contracts' `principalId` (the kinds never collide).
   */
  id: string;
  /** The token's configured name, or the Authentik username. Safe to log. */
  name: string;
  via: "bearer" | "authentik";
  email?: string;
  groups?: string[];
}

/** The `c.var` fragment the middleware sets; merge it into a service's own `Variables`. */
export type AuthVariables = { principal: Principal };

/** A hono `Env` carrying only the auth variables, e.g. `new Hono<AuthEnv>()`. */
export type AuthEnv = { Variables: AuthVariables };
