import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The real, pinned Claude Code CLI binary. Throws with a remedy when it is missing or is the
 * placeholder the package leaves when its install script did not run.
 *
 * `CLAUDE_TEST_BIN` runs every CLI test against another binary instead, e.g. a candidate for the
 * next pin (README: "Moving the CLI pin").
 */
export function realClaudeBin(): string {
  const candidate = process.env.CLAUDE_TEST_BIN;
  if (candidate) {
    if (!existsSync(candidate) || statSync(candidate).size < 10_000) {
      throw new Error(`CLAUDE_TEST_BIN=${candidate} is not a native claude binary`);
    }
    return candidate;
  }
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("@anthropic-ai/claude-code/package.json");
  } catch {
    throw new Error("@anthropic-ai/claude-code is not installed: run `pnpm install` at the repo root");
  }
  const bin = join(dirname(pkgJson), "bin", "claude.exe");
  if (!existsSync(bin) || statSync(bin).size < 10_000) {
    throw new Error(
      `${bin} is the placeholder, not the native CLI: the package's postinstall did not run. ` +
        "List @anthropic-ai/claude-code under onlyBuiltDependencies in pnpm-workspace.yaml and reinstall.",
    );
  }
  return bin;
}

/** The version of the CLI under test, e.g. `2.1.332`. */
export function realClaudeVersion(bin = realClaudeBin()): string {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
  return out.trim().split(/\s+/)[0] ?? "";
}

export interface ClaudeTestEnv {
  bin: string;
  /** A fresh HOME: sessions, settings and agents of this test only. */
  home: string;
  /** Variables for the child: HOME, the stub's URL, a dummy key, no retries, no telemetry. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Everything a test needs to run the real CLI against a Messages API stub. */
export async function claudeTestEnv(
  stubUrl: string,
  opts: { maxRetries?: number } = {},
): Promise<ClaudeTestEnv> {
  const home = await mkdtemp(join(tmpdir(), "cg-home-"));
  return {
    bin: realClaudeBin(),
    home,
    env: {
      HOME: home,
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      ANTHROPIC_BASE_URL: stubUrl,
      ANTHROPIC_API_KEY: "sk-ant-test-dummy",
      CLAUDE_CODE_MAX_RETRIES: String(opts.maxRetries ?? 0),
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
