import { loginProblem } from "@claude-gateway/claude";
import { type Readiness, readinessOf } from "@claude-gateway/service-kit";

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
  return readinessOf(
    () => deps.stopping() && "shutting down",
    () => loginProblem(deps.claudeEnv, deps.fileExists),
  );
}
