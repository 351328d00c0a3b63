import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { WorkspaceLogger } from "../workspace/index.js";

/** What the CLI writes on a first start and reads on every later one; nothing a job wrote. */
const KEPT = [".claude.json", "plugins"];

/**
 * The CLI's own first-run state (`.claude.json`: migrations done, ids; `plugins/`), made once at
 * start-up by running the CLI against a closed loopback port — no API call, no input of any job —
 * so each job's fresh home starts as a returning CLI does. Measured: a one-turn run ~20 ms faster
 * than from an empty config dir. Undefined (and homes start empty) when the CLI wrote nothing.
 */
export async function makeCliTemplate(
  bin: string | undefined,
  logger: WorkspaceLogger,
): Promise<{ dir: string; entries: string[] } | undefined> {
  if (!bin) return undefined;
  const home = mkdtempSync(join(tmpdir(), "claude-gateway-cli-template-"));
  const configDir = join(home, ".claude");
  try {
    await execa(
      bin,
      ["-p", "--setting-sources", "", "--strict-mcp-config", "--tools", "", "--no-session-persistence"],
      {
        cwd: home,
        input: "start",
        extendEnv: false,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          CLAUDE_CONFIG_DIR: configDir,
          // Nothing listens on the discard port: the one request fails at once.
          ANTHROPIC_BASE_URL: "http://127.0.0.1:9",
          ANTHROPIC_API_KEY: "offline-template",
          CLAUDE_CODE_MAX_RETRIES: "0",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          DISABLE_AUTOUPDATER: "1",
        },
        reject: false,
        timeout: 30_000,
      },
    );
  } catch (err) {
    logger.warn({ err }, "could not make the CLI's first-run template: job homes start empty");
  }
  const entries = KEPT.filter((e) => existsSync(join(configDir, e)));
  if (entries.length === 0) {
    rmSync(home, { recursive: true, force: true });
    return undefined;
  }
  return { dir: configDir, entries };
}
