export type { AuthFailureReason } from "./authenticate.js";
export { loadAuthConfig, parseAuthConfig, type ReadTextFile } from "./config.js";
export { AuthConfigError } from "./errors.js";
export {
  type AuthFailure,
  type AuthLogger,
  type AuthOptions,
  createAuth,
  DEFAULT_PUBLIC_PATHS,
} from "./middleware.js";
export type { AuthEnv, AuthVariables, Principal } from "./principal.js";
export {
  AuthConfig,
  AuthentikConfig,
  AuthToken,
  MIN_TOKEN_LENGTH,
  TOKEN_VALUE_PATTERN,
} from "./schema.js";
export { secretChecker } from "./secret.js";
