import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentFileError, type AgentFileProblem, AgentsDirError } from "./errors.js";
import { parseAgentFile } from "./parse.js";
import { AgentRegistry } from "./registry.js";
import type { AgentSpec } from "./spec.js";

/**
 * Reads every `*.md` in `dir` into a registry. Any bad file stops start-up: one `AgentFileError`
 * lists the problems of all files. An unreadable or agent-less directory is an `AgentsDirError`.
 */
export async function loadAgents(dir: string): Promise<AgentRegistry> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new AgentsDirError(dir, `cannot read the agents directory ${dir} (${code})`, { cause: error });
  }
  // Hidden entries are skipped: a Kubernetes ConfigMap mount adds `..data`, editors leave dotfiles.
  const files = names.filter((n) => n.endsWith(".md") && !n.startsWith(".")).sort();
  if (files.length === 0) throw new AgentsDirError(dir, `no agent files (*.md) in ${dir}`);

  // Results keep the sorted file order, so the message does not depend on which read finished first.
  const results = await Promise.all(files.map((name) => readAgent(join(dir, name))));
  const problems = results.flatMap((r) => ("problems" in r ? r.problems : []));
  if (problems.length > 0) throw new AgentFileError(problems);
  return new AgentRegistry(results.flatMap((r) => ("spec" in r ? [r.spec] : [])));
}

async function readAgent(
  file: string,
): Promise<{ spec: AgentSpec } | { problems: readonly AgentFileProblem[] }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return {
      problems: [{ file, message: `cannot read (${(error as NodeJS.ErrnoException).code ?? error})` }],
    };
  }
  try {
    return { spec: parseAgentFile(file, text) };
  } catch (error) {
    if (error instanceof AgentFileError) return { problems: error.problems };
    throw error;
  }
}
