import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { AgentsDirError } from "./errors.js";

/**
 * Walks up from `startDir` to the nearest `agents/` directory holding agent files, for services
 * started without `AGENTS_DIR`. A directory with a `package.json` is skipped: that is this
 * package's source (`packages/agents`), not the agent files.
 */
export async function findAgentsDir(startDir: string): Promise<string> {
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, "agents");
    if (await holdsAgentFiles(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AgentsDirError(
        resolve(startDir),
        `no agents/ directory with *.md files above ${resolve(startDir)}; set AGENTS_DIR`,
      );
    }
    dir = parent;
  }
}

async function holdsAgentFiles(dir: string): Promise<boolean> {
  try {
    const names = await readdir(dir);
    return !names.includes("package.json") && names.some((n) => n.endsWith(".md") && !n.startsWith("."));
  } catch {
    return false;
  }
}
