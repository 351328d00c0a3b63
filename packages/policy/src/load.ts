import { unwatchFile, watchFile } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Logger } from "@claude-gateway/service-kit";
import { ConfigError } from "@claude-gateway/service-kit";
import { parse } from "yaml";
import { CallerPolicy } from "./policy.js";
import { CallerPolicyFile } from "./schema.js";

/** A policy file's text (YAML, or JSON, which is YAML too) as the policy, or every problem in it. */
export function parsePolicy(text: string, source: string): CallerPolicy {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(
      [`${source}: not YAML or JSON: ${(err as Error).message.split("\n")[0]}`],
      "caller policy",
    );
  }
  const parsed = CallerPolicyFile.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${source}: ${i.path.join(".") || "(file)"}: ${i.message}`),
      "caller policy",
    );
  }
  try {
    return new CallerPolicy(parsed.data, source);
  } catch (err) {
    throw new ConfigError([`${source}: ${(err as Error).message}`], "caller policy");
  }
}

export async function loadPolicyFile(path: string): Promise<CallerPolicy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError([`${path}: ${(err as Error).message}`], "caller policy");
  }
  return parsePolicy(text, path);
}

/** The policy in force, kept current. */
export interface PolicySource {
  current(): CallerPolicy;
  close(): void;
}

/**
 * The policy of `CALLER_POLICY_FILE`, re-read when the file changes (polled, which also sees a
 * Kubernetes ConfigMap's symlink swap). A bad new file is refused with its problems logged and the
 * last good policy stays in force; a bad file at start-up fails the start. Without a path: the
 * built-in safe defaults.
 */
export async function watchPolicy(
  path: string | undefined,
  opts: {
    logger: Pick<Logger, "info" | "error">;
    intervalMs?: number;
    /** Told after every reload attempt (tests wait on it instead of sleeping). */
    onReload?: (accepted: boolean) => void;
  },
): Promise<PolicySource> {
  if (path === undefined) {
    const policy = CallerPolicy.builtIn();
    return { current: () => policy, close: () => {} };
  }
  let policy = await loadPolicyFile(path);
  opts.logger.info({ policy: path, callers: policy.listed() }, "caller policy loaded");
  let reloading = Promise.resolve();
  const onChange = () => {
    reloading = reloading.then(async () => {
      try {
        policy = await loadPolicyFile(path);
        opts.logger.info({ policy: path, callers: policy.listed() }, "caller policy reloaded");
        opts.onReload?.(true);
      } catch (err) {
        const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
        opts.logger.error(
          { policy: path, problems },
          "caller policy change refused; the last good one stays",
        );
        opts.onReload?.(false);
      }
    });
  };
  watchFile(path, { interval: opts.intervalMs ?? 2_000 }, onChange);
  return {
    current: () => policy,
    close: () => unwatchFile(path, onChange),
  };
}
