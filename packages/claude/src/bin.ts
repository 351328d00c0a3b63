import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The claude binary to run: `CLAUDE_BIN` if set, else the pinned `@anthropic-ai/claude-code`
 * package's native binary. Returns undefined when neither exists; the runner then fails with a
 * typed "not installed" error.
 */
export function resolveClaudeBin(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (env.CLAUDE_BIN) return env.CLAUDE_BIN;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("@anthropic-ai/claude-code/package.json");
    const bin = join(dirname(pkg), "bin", "claude.exe");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** The package ships a ~500-byte placeholder until its install script links the native binary. */
export function isPlaceholderBinary(bin: string): boolean {
  try {
    return statSync(bin).size < 10_000;
  } catch {
    return false;
  }
}
