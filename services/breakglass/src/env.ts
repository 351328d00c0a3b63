import type { AuthEnv } from "@claude-gateway/auth";
import type { RequestVariables } from "@claude-gateway/service-kit";

/**
 * The hono environment of the app and its routes: the caller (`principal`, from auth) and the
 * request id and child logger (from service-kit's `requestContext`). Its own file so the routes
 * need not import the app that mounts them.
 */
export type Env = AuthEnv & { Variables: RequestVariables };
