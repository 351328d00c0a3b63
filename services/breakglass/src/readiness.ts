import { detectClaudeLogin } from "@claude-gateway/claude";
import type { Readiness } from "@claude-gateway/service-kit";

export interface ReadinessDeps {
  /** The environment the CLI's login comes from (its token, or `HOME` / `CLAUDE_CONFIG_DIR`). */
  claudeEnv: Readonly<Record<string, string | undefined>>;
  stopping: () => boolean;
  /** Injected in tests; default `existsSync`. */
  fileExists?: (path: string) => boolean;
}

/**
 * `/readyz`: ready to take turns while the CLI has a login and the service is not shutting down.
 * SSH is deliberately not a condition: without it the console must still open, to say so (the
 * VM verbs answer 503 with the reason).
 */
export function breakglassReadiness(deps: ReadinessDeps): () => Readiness {
  return () => {
    if (deps.stopping()) return { ready: false, reason: "shutting down" };
    const login = detectClaudeLogin(deps.claudeEnv, deps.fileExists);
    return login.ok ? { ready: true } : { ready: false, reason: `claude_not_authenticated: ${login.reason}` };
  };
}
