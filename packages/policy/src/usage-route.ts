import type { Context } from "hono";
import type { PolicyGate } from "./gate.js";

/**
 * `GET /v1/usage`: the caller's limits and what it used (today's spend, in flight, requests this
 * minute); an admin gets every caller's. Mount behind the service's auth middleware.
 */
export function usageHandler(gate: PolicyGate) {
  return async (c: Context): Promise<Response> => {
    const principal = (c.get("principal") as { id: string } | undefined)?.id;
    if (!principal) throw new Error("usageHandler needs the auth middleware in front of it");
    const own = await gate.usage(principal);
    if (!own.admin) return c.json(own);
    return c.json({ ...own, callers: await gate.usageOfAll() });
  };
}
