import { readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface PermissivePolicyOptions {
  /** Agents every caller may run (default: every `agents/*.md`). */
  agents?: readonly string[];
  /** Models every caller may use (default: every id the default allowlist has — pass your own). */
  models: readonly string[];
  /** Callers marked admin. */
  admins?: readonly string[];
}

/**
 * Writes a caller policy that lets every caller run every agent and model, with limits no test
 * reaches, and returns its path: for tests and benches that are not about the policy, so they keep
 * measuring what they measure. Tests of the policy write their own files.
 */
export async function writePermissivePolicy(
  dir: string,
  agentsDir: string,
  opts: PermissivePolicyOptions,
): Promise<string> {
  const agents =
    opts.agents ??
    readdirSync(agentsDir)
      .filter((f) => f.endsWith(".md"))
      .map((f) => f.slice(0, -3));
  const file = {
    defaults: {
      agents: [...agents],
      models: [...opts.models],
      maxConcurrent: 1000,
      requestsPerMinute: 100_000,
      budgetUsdPerDay: 100_000,
    },
    callers: Object.fromEntries((opts.admins ?? []).map((name) => [name, { admin: true }])),
  };
  const path = join(dir, "permissive-policy.json");
  // A service secret: only the service may read it (an isolated executor refuses to start otherwise).
  await writeFile(path, JSON.stringify(file, null, 2), { mode: 0o600 });
  return path;
}
