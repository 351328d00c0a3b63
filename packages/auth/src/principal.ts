/** Who made the request, as established by the auth middleware. */
export interface Principal {
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
